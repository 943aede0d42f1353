/* pbvote maps of proposals, drawn with the vendored Leaflet (static/vendor/leaflet/).  Only an aid:
   the page lists every place as text, and the latitude and longitude fields of the proposal form
   work without it.  Loaded only when map tiles are configured (PBVOTE_MAP_TILES).

   [data-map=places]  a map of the places given as JSON in data-places (id, title, url, lat, lon,
                      address): one marker each, whose popup links to the proposal.
   [data-map=picker]  on the proposal form: clicking the map (or dragging the marker) fills in the
                      latitude and longitude fields; typing in them moves the marker.

   Titles and addresses are written by residents: they reach the page as text nodes only
   (textContent, a marker's alt and title attributes), never as HTML. */
(function () {
  "use strict";
  if (!window.L) { return; }

  function escapeHtml(text) {
    // Leaflet shows an attribution as HTML: the operator's text is shown as text.
    return String(text).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; });
  }

  function makeMap(canvas) {
    // Wheel and (on touch screens) one-finger drags scroll the page, not the map: a map never
    // traps a visitor who is only scrolling past it.  Buttons, keys and two fingers zoom and pan.
    var map = L.map(canvas, { scrollWheelZoom: false, dragging: !L.Browser.mobile, worldCopyJump: true });
    var attribution = canvas.dataset.attribution;
    L.tileLayer(canvas.dataset.tiles, {
      maxZoom: 19, attribution: attribution ? escapeHtml(attribution) : ""
    }).addTo(map);
    return map;
  }

  function popup(place) {
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = place.url;
    link.className = "map-popup-link";
    link.textContent = place.title;
    box.appendChild(link);
    if (place.address) {
      var where = document.createElement("p");
      where.className = "map-popup-address";
      where.textContent = place.address;
      box.appendChild(where);
    }
    return box;
  }

  function placesMap(canvas) {
    var places;
    try { places = JSON.parse(canvas.dataset.places); } catch (e) { return; }
    if (!places.length) { return; }
    canvas.hidden = false;
    var map = makeMap(canvas);
    var bounds = L.latLngBounds([]);
    var opener = null;
    places.forEach(function (place) {
      var at = L.latLng(place.lat, place.lon);
      // keyboard: the marker is a focusable button (Enter opens its popup); alt names it.
      var marker = L.marker(at, { title: place.title, alt: place.title, keyboard: true })
        .bindPopup(popup(place)).addTo(map);
      // Leaflet puts popups after every marker in the page's order, so Tab would pass all the
      // other markers before reaching the link: focus goes to the link when the popup opens.
      marker.on("popupopen", function (event) {
        opener = marker;
        var link = event.popup.getElement().querySelector(".map-popup-link");
        if (link) { link.focus({ preventScroll: true }); }
      });
      bounds.extend(at);
    });
    // Escape closes the popup and gives the focus back to its marker (Leaflet's own Escape works
    // only while the map itself has the focus).
    canvas.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" || !opener || !opener.isPopupOpen()) { return; }
      var back = opener;
      map.closePopup();
      back.getElement().focus();
    });
    if (places.length === 1) {
      map.setView(bounds.getCenter(), 16);
    } else {
      map.fitBounds(bounds, { padding: [32, 32], maxZoom: 16 });
    }
    // The map shows the places now; their list stays one click away.
    var list = canvas.parentNode.querySelector("details.map-places");
    if (list) { list.open = false; }
  }

  function picker(box) {
    var latInput = document.getElementById(box.dataset.latitude);
    var lonInput = document.getElementById(box.dataset.longitude);
    var canvas = box.querySelector(".map-canvas");
    if (!latInput || !lonInput || !canvas) { return; }
    box.hidden = false;
    var map = makeMap(canvas);
    var marker = null;

    function typed() {
      var lat = parseFloat(latInput.value), lon = parseFloat(lonInput.value);
      if (!isFinite(lat) || !isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) { return null; }
      return L.latLng(lat, lon);
    }
    function fill(at) {
      at = at.wrap();
      latInput.value = at.lat.toFixed(6);
      lonInput.value = at.lng.toFixed(6);
    }
    function put(at) {
      if (marker) {
        marker.setLatLng(at);
      } else {
        marker = L.marker(at, { draggable: true, keyboard: false, alt: box.dataset.markerLabel || "" }).addTo(map);
        marker.on("dragend", function () { fill(marker.getLatLng()); });
      }
    }

    var start = typed();
    var area = box.dataset.area ? JSON.parse(box.dataset.area) : null;
    if (start) {
      put(start);
      map.setView(start, 16);
    } else if (area) {
      map.fitBounds([[area[0], area[1]], [area[2], area[3]]], { padding: [24, 24], maxZoom: 15 });
    } else {
      map.setView([20, 0], 2);
    }
    map.on("click", function (event) { put(event.latlng); fill(event.latlng); });
    [latInput, lonInput].forEach(function (input) {
      input.addEventListener("change", function () {
        var at = typed();
        if (at) { put(at); map.panTo(at); }
      });
    });
    var clear = box.querySelector("[data-map-clear]");
    if (clear) {
      clear.addEventListener("click", function () {
        latInput.value = "";
        lonInput.value = "";
        if (marker) { map.removeLayer(marker); marker = null; }
        latInput.focus();
      });
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-map=places]"), placesMap);
  Array.prototype.forEach.call(document.querySelectorAll("[data-map=picker]"), picker);
})();
