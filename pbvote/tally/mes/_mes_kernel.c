/* One MES run on exact integer bounds, in C: the hot loop of pbvote.tally.mes.bounds.

   Optional: without this extension the numpy path (BoundRun) and the exact
   rational path give the same outcomes. The method and its proof are those
   of bounds.py (module docstring); this file only computes them faster.

   Money of every group of identical ballots is held as two int64 bounds
   lo <= D * money <= hi. Every decision is taken only when the bounds imply
   it, or exactly (the exact step for ties); anything else makes the run
   return status 1 ("undecided"), and the caller redoes that run on another
   path. Rationals are num/den pairs of int64 (den > 0) compared by
   cross-multiplication in __int128 (each product below 2**126).

   Overflow: a run starts only if every project's supporters hold less than
   2**62 in total (max total weight * hi0 < 2**62); every sum of money below
   is then below 2**62. Costs times D at or above 2**62 are unaffordable for
   certain. A rational whose denominator would not fit in int64 makes the
   run undecided (never seen: denominators are a voter count times a cost).

   Python API (all integer arrays are native int64 buffers, e.g. bytes):
     election(n_groups, ptr, idx, wt, cost, mult, tie) -> capsule
     run(election, D, lo0, hi0, alive, plan, finish, borrow, record)
       -> (status, depth, certified, order, rounds, plan_out, record_out, evals)
   See kernel.py (KernelRun) for the meaning of each. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef __int128 i128;
typedef struct { int64_t num, den; } rat; /* num / den, den > 0, num >= 0 */

#define LIMIT ((int64_t)1 << 62)
#define CAPSULE "pbvote.tally.mes._mes_kernel.election"

/* -- the election, built once ------------------------------------------------ */

typedef struct {
    int64_t m, n_groups, nnz, maxtotal;
    int64_t *ptr;   /* m + 1: supporters of c are entries ptr[c] .. ptr[c+1]-1 */
    int32_t *idx;   /* nnz: group of each entry (int32: half the memory traffic) */
    int32_t *wt;    /* nnz: weight of each entry (voters in the group) */
    int64_t *total; /* m: total weight of c's supporters */
    int64_t *cost;  /* m: cost in the smallest unit; < 0: too large to be funded */
    int64_t *mult;  /* m: utility multiplier (the cost, or 1), >= 1 */
    int64_t *tie;   /* m: rank in the tie-break order (smaller wins) */
} Elec;

static void elec_free(Elec *e)
{
    if (e == NULL)
        return;
    free(e->ptr);
    free(e->idx);
    free(e->wt);
    free(e->total);
    free(e->cost);
    free(e->mult);
    free(e->tie);
    free(e);
}

static void capsule_free(PyObject *cap)
{
    elec_free((Elec *)PyCapsule_GetPointer(cap, CAPSULE));
}

/* Copy an int64 buffer; *n receives its length in items. NULL on error (set). */
static int64_t *copy_int64(PyObject *obj, int64_t *n, const char *what)
{
    Py_buffer view;
    if (PyObject_GetBuffer(obj, &view, PyBUF_C_CONTIGUOUS) < 0)
        return NULL;
    if (view.len % 8 != 0) {
        PyBuffer_Release(&view);
        PyErr_Format(PyExc_ValueError, "%s: not a buffer of int64", what);
        return NULL;
    }
    *n = (int64_t)(view.len / 8);
    int64_t *out = malloc(view.len > 0 ? (size_t)view.len : 8);
    if (out == NULL) {
        PyBuffer_Release(&view);
        PyErr_NoMemory();
        return NULL;
    }
    if (view.len > 0)
        memcpy(out, view.buf, (size_t)view.len);
    PyBuffer_Release(&view);
    return out;
}

static PyObject *py_election(PyObject *self, PyObject *args)
{
    (void)self;
    long long n_groups;
    PyObject *o_ptr, *o_idx, *o_wt, *o_cost, *o_mult, *o_tie;
    if (!PyArg_ParseTuple(args, "LOOOOOO", &n_groups, &o_ptr, &o_idx, &o_wt, &o_cost, &o_mult,
                          &o_tie))
        return NULL;
    Elec *e = calloc(1, sizeof(Elec));
    if (e == NULL)
        return PyErr_NoMemory();
    int64_t np = 0, ni = 0, nw = 0, nc = 0, nm = 0, nt = 0;
    int64_t *idx = NULL, *wt = NULL;
    if ((e->ptr = copy_int64(o_ptr, &np, "ptr")) == NULL ||
        (idx = copy_int64(o_idx, &ni, "idx")) == NULL ||
        (wt = copy_int64(o_wt, &nw, "wt")) == NULL ||
        (e->cost = copy_int64(o_cost, &nc, "cost")) == NULL ||
        (e->mult = copy_int64(o_mult, &nm, "mult")) == NULL ||
        (e->tie = copy_int64(o_tie, &nt, "tie")) == NULL)
        goto fail;
    e->m = np - 1;
    e->n_groups = n_groups;
    e->nnz = ni;
    if (e->m < 0 || n_groups < 0 || nw != ni || nc != e->m || nm != e->m || nt != e->m ||
        e->ptr[0] != 0 || e->ptr[e->m] != ni) {
        PyErr_SetString(PyExc_ValueError, "inconsistent election arrays");
        goto fail;
    }
    e->total = calloc((size_t)(e->m > 0 ? e->m : 1), sizeof(int64_t));
    e->idx = malloc((size_t)(ni > 0 ? ni : 1) * sizeof(int32_t));
    e->wt = malloc((size_t)(ni > 0 ? ni : 1) * sizeof(int32_t));
    if (e->total == NULL || e->idx == NULL || e->wt == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    for (int64_t c = 0; c < e->m; c++) {
        if (e->ptr[c + 1] < e->ptr[c] || e->mult[c] < 1) {
            PyErr_SetString(PyExc_ValueError, "bad ptr or mult");
            goto fail;
        }
        int64_t s = 0;
        for (int64_t j = e->ptr[c]; j < e->ptr[c + 1]; j++) {
            if (idx[j] < 0 || idx[j] >= n_groups || idx[j] > INT32_MAX || wt[j] < 1 ||
                wt[j] > INT32_MAX || s >= LIMIT - wt[j]) {
                PyErr_SetString(PyExc_ValueError, "bad supporter entry");
                goto fail;
            }
            e->idx[j] = (int32_t)idx[j];
            e->wt[j] = (int32_t)wt[j];
            s += wt[j];
        }
        e->total[c] = s;
        if (s > e->maxtotal)
            e->maxtotal = s;
    }
    free(idx);
    free(wt);
    PyObject *cap = PyCapsule_New(e, CAPSULE, capsule_free);
    if (cap == NULL) {
        elec_free(e);
        return NULL;
    }
    return cap;
fail:
    free(idx);
    free(wt);
    elec_free(e);
    return NULL;
}

/* -- arithmetic --------------------------------------------------------------- */

static int rcmp(rat a, rat b)
{
    i128 x = (i128)a.num * b.den, y = (i128)b.num * a.den;
    return (x > y) - (x < y);
}

static int64_t floordiv(int64_t a, int64_t b) /* b > 0 */
{
    int64_t q = a / b;
    if (a % b != 0 && a < 0)
        q--;
    return q;
}

static int64_t ceildiv(int64_t a, int64_t b) /* b > 0 */
{
    return -floordiv(-a, b);
}

/* floor(s * m) for s >= 0, or 0 (always a valid warm start) if it does not fit */
static int64_t floor_mul(rat s, int64_t m)
{
    i128 v = (i128)s.num * m / s.den;
    return v < LIMIT ? (int64_t)v : 0;
}

/* r / m; 0 if the denominator does not fit */
static int div_mult(rat r, int64_t m, rat *out)
{
    int64_t d;
    if (__builtin_mul_overflow(r.den, m, &d))
        return 0;
    out->num = r.num;
    out->den = d;
    return 1;
}

/* -- one run ------------------------------------------------------------------ */

typedef struct {
    const Elec *e;
    int64_t m, D;
    int64_t *lo, *hi;          /* n_groups each */
    int32_t **cidx, **cwt;     /* per project: its supporters still holding money (mostly) */
    int64_t *clen, *dead;      /* their number, and the weight of those dropped (spent out) */
    int32_t *own;              /* 2 * nnz: where compacted lists are written */
    int64_t *costD;            /* cost * D, or -1: unaffordable for certain */
    rat *stale;                /* per project: a lower bound of its rho (D p* / mult) */
    unsigned char *in_race;
    int64_t *rem, nrem;        /* projects in the race (in_race tells which are still) */
    int64_t *fresh, stamp;     /* fresh[c] == stamp: lower bound refreshed this round */
    int64_t *close, *cand;
    int64_t *xs, *ws;          /* scratch: one project's supporters' money and weights */
    int64_t *rq, *rL, *rU, *ren, *red, nr; /* rounds: winner, L <= D p* <= U, exact or red = 0 */
    int64_t *rec, rec_w;       /* record of the rounds (for a run that borrows), width */
    int want_record, err;
    int64_t evals;
} Run;

static void run_free(Run *R)
{
    free(R->lo);
    free(R->hi);
    free(R->cidx);
    free(R->cwt);
    free(R->clen);
    free(R->dead);
    free(R->own);
    free(R->costD);
    free(R->stale);
    free(R->in_race);
    free(R->rem);
    free(R->fresh);
    free(R->close);
    free(R->cand);
    free(R->xs);
    free(R->ws);
    free(R->rq);
    free(R->rL);
    free(R->rU);
    free(R->ren);
    free(R->red);
    free(R->rec);
}

static void compact(Run *R, int64_t c)
{
    const Elec *e = R->e;
    int32_t *si = R->cidx[c], *sw = R->cwt[c];
    int32_t *di = R->own + e->ptr[c], *dw = R->own + e->nnz + e->ptr[c];
    int64_t len = R->clen[c], k = 0, dropped = 0;
    const int64_t *hi = R->hi;
    for (int64_t j = 0; j < len; j++) { /* k <= j: safe in place */
        int32_t g = si[j], w = sw[j];
        if (hi[g] != 0) {
            di[k] = g;
            dw[k] = w;
            k++;
        } else {
            dropped += w;
        }
    }
    R->cidx[c] = di;
    R->cwt[c] = dw;
    R->clen[c] = k;
    R->dead[c] += dropped;
}

/* One pass of the poor/rich split at p over xs/ws (the supporters not yet known
   poor): whoever holds less than p joins the poor (weight *kk, money *poor) and
   leaves the buffer (p only grows, so the poor stay poor). Branch-free: the split
   is unpredictable. Returns the new length. */
static int64_t split(int64_t *xs, int64_t *ws, int64_t len, int64_t p, int64_t *kk,
                     int64_t *poor)
{
    int64_t keep = 0, k = *kk, m = *poor;
    for (int64_t j = 0; j < len; j++) {
        int64_t x = xs[j], w = ws[j], is_poor = -(int64_t)(x < p);
        k += w & is_poor;
        m += (x * w) & is_poor;
        xs[keep] = x;
        ws[keep] = w;
        keep += 1 + is_poor;
    }
    *kk = k;
    *poor = m;
    return keep;
}

/* The poor/rich iteration of lower() and upper(), after the split at p: p = (cost -
   poor money) / (weight of the others), rounded down (lower) or up (upper), until
   it no longer grows. The same iterates as recomputing every split from scratch
   (bounds.py), on a shrinking contiguous buffer. */
static int iterate(int64_t *xs, int64_t *ws, int64_t len, int64_t n, int64_t kk, int64_t poor,
                   int64_t cost, int64_t p, int up, int64_t *out)
{
    for (;;) {
        if (n - kk <= 0)
            return -1;
        int64_t q = up ? ceildiv(cost - poor, n - kk) : floordiv(cost - poor, n - kk);
        if (q <= p) {
            *out = p;
            return 1;
        }
        p = q;
        len = split(xs, ws, len, p, &kk, &poor);
    }
}

/* The first pass of lower() and upper(): gather the supporters' money bounds
   (money[]), total them (*S), count the non-zero ones (*nz), and split at p, the
   poor added to *kk and *poor, the others copied to xs/ws for iterate(). (The
   spent out still listed, at 0, are poor iff p > 0, as in bounds.py.) The
   same split as split(), with the gather fused in: kept apart, as both are the
   hot loops. */
static int64_t first_split(const int64_t *money, const int32_t *ix, const int32_t *w,
                           int64_t len, int64_t p, int64_t *kk, int64_t *poor, int64_t *xs,
                           int64_t *ws, int64_t *S, int64_t *nz)
{
    int64_t sum = 0, z = 0, k = *kk, m = *poor, keep = 0;
    for (int64_t j = 0; j < len; j++) {
        int64_t x = money[ix[j]], wj = w[j], is_poor = -(int64_t)(x < p);
        sum += x * wj;
        z += x != 0;
        k += wj & is_poor;
        m += (x * wj) & is_poor;
        xs[keep] = x;
        ws[keep] = wj;
        keep += 1 + is_poor;
    }
    *S = sum;
    *nz = z;
    *kk = k;
    *poor = m;
    return keep;
}

/* Integer lower bound of D p* for c (poor/rich iteration on hi, floor division).
   1: *out set; 0: unaffordable for certain; -1: error (the run is undecided). */
static int lower(Run *R, int64_t c, int64_t p0, int64_t *out)
{
    R->evals++;
    int64_t cost = R->costD[c];
    if (cost < 0)
        return 0;
    int64_t len = R->clen[c], n = R->e->total[c], k = R->dead[c], S, nz, kk, poor, keep;
    for (int pass = 0;; pass++) {
        if (n - k <= 0)
            return -1;
        int64_t p = cost / (n - k);
        if (p0 > p)
            p = p0;
        kk = k;
        poor = 0;
        keep = first_split(R->hi, R->cidx[c], R->cwt[c], len, p, &kk, &poor, R->xs, R->ws, &S,
                           &nz);
        if (S < cost)
            return 0;
        if (pass == 0 && 4 * nz < 3 * len) { /* drop the spent out for good; again */
            compact(R, c);
            len = R->clen[c];
            k = R->dead[c];
            continue;
        }
        return iterate(R->xs, R->ws, keep, n, kk, poor, cost, p, 0, out);
    }
}

/* Integer upper bound of D p* for c (the same on lo, rounded up).
   1: *out set; 0: c may be unaffordable (undecided); -1: error. */
static int upper(Run *R, int64_t c, int64_t p0, int64_t *out)
{
    R->evals++;
    int64_t cost = R->costD[c];
    if (cost < 0)
        return 0;
    int64_t len = R->clen[c], n = R->e->total[c], k = R->dead[c], S, nz, kk = k, poor = 0;
    if (n - k <= 0)
        return -1;
    int64_t p = ceildiv(cost, n - k);
    if (p0 > p)
        p = p0;
    int64_t keep = first_split(R->lo, R->cidx[c], R->cwt[c], len, p, &kk, &poor, R->xs, R->ws,
                               &S, &nz);
    if (S < cost)
        return 0;
    return iterate(R->xs, R->ws, keep, n, kk, poor, cost, p, 1, out);
}

/* D p* for c exactly, when every supporter of unknown money (lo < hi) is rich for
   certain (bounds.BoundRun.exact). 1: *out set; 0: not possible. */
static int exact(Run *R, int64_t c, rat *out)
{
    R->evals++;
    const Elec *e = R->e;
    int64_t cost = R->costD[c];
    if (cost < 0)
        return 0;
    const int64_t *lo = R->lo, *hi = R->hi;
    const int32_t *ix = e->idx, *w = e->wt;
    int64_t a = e->ptr[c], b = e->ptr[c + 1], n = e->total[c], S = 0;
    for (int64_t j = a; j < b; j++)
        S += hi[ix[j]] * w[j];
    if (S < cost)
        return 0;
    int64_t k = 0, paid = 0;
    rat r = {cost, n};
    for (;;) {
        int64_t thr = ceildiv(cost - paid, n - k), kk = 0, pd = 0;
        for (int64_t j = a; j < b; j++) {
            int64_t g = ix[j];
            if (lo[g] == hi[g] && lo[g] < thr) {
                kk += w[j];
                pd += lo[g] * w[j];
            }
        }
        if (kk == k)
            break;
        k = kk;
        paid = pd;
        if (n == k || cost - paid <= 0)
            return 0;
        r.num = cost - paid;
        r.den = n - k;
    }
    int64_t thr = ceildiv(r.num, r.den);
    for (int64_t j = a; j < b; j++) {
        int64_t g = ix[j];
        if (lo[g] != hi[g] && lo[g] < thr)
            return 0;
    }
    *out = r;
    return 1;
}

static void drop(Run *R, int64_t c) { R->in_race[c] = 0; }

static void tidy(Run *R) /* rem = the projects still in the race */
{
    int64_t k = 0;
    for (int64_t i = 0; i < R->nrem; i++)
        if (R->in_race[R->rem[i]])
            R->rem[k++] = R->rem[i];
    R->nrem = k;
}

/* s loses to ur for certain (q being the one at ur) */
static int loses(const Run *R, rat s, rat ur, int64_t q, int64_t d)
{
    int cm = rcmp(s, ur);
    return cm > 0 || (cm == 0 && R->e->tie[q] < R->e->tie[d]);
}

/* Projects still in the race that might beat q at rho_q <= ur, into R->close
   (lower bounds not refreshed this round are refreshed first). -1 on error. */
static int64_t rivals(Run *R, int64_t q, rat ur)
{
    const int64_t *mult = R->e->mult;
    int64_t n = 0;
    for (int64_t i = 0; i < R->nrem; i++) {
        int64_t d = R->rem[i];
        if (d == q || !R->in_race[d])
            continue;
        rat s = R->stale[d];
        if (loses(R, s, ur, q, d))
            continue;
        if (R->fresh[d] != R->stamp) {
            int64_t p;
            int st = lower(R, d, floor_mul(s, mult[d]), &p);
            R->fresh[d] = R->stamp;
            if (st < 0)
                return -1;
            if (st == 0) {
                drop(R, d);
                continue;
            }
            s.num = p;
            s.den = mult[d];
            R->stale[d] = s;
            if (loses(R, s, ur, q, d))
                continue;
        }
        R->close[n++] = d;
    }
    return n;
}

/* The round's winner: *q, *L, *U, *e (e->den == 0: not computed). 1 ok, 0 undecided. */
static int decide(Run *R, int64_t *q, int64_t *L, int64_t *U, rat *e)
{
    const int64_t *mult = R->e->mult, *tie = R->e->tie;
    rat ur = {*U, mult[*q]};
    int64_t n = rivals(R, *q, ur);
    if (n < 0)
        return 0;
    e->num = 0;
    e->den = 0;
    if (n == 0)
        return 1;
    rat eq, kq;
    if (!exact(R, *q, &eq) || !div_mult(eq, mult[*q], &kq))
        return 0;
    int64_t best = *q;
    rat best_e = eq, best_k = kq;
    n = rivals(R, *q, kq);
    if (n < 0)
        return 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t d = R->close[i];
        rat ed, kd;
        if (!exact(R, d, &ed) || !div_mult(ed, mult[d], &kd))
            return 0;
        R->stale[d] = kd;
        int cm = rcmp(kd, best_k);
        if (cm < 0 || (cm == 0 && tie[d] < tie[best])) {
            best = d;
            best_e = ed;
            best_k = kd;
        }
    }
    *q = best;
    *L = floordiv(best_e.num, best_e.den);
    *U = ceildiv(best_e.num, best_e.den);
    *e = best_e;
    return 1;
}

static void fund(Run *R, int64_t q, int64_t L, int64_t U, rat e)
{
    int64_t len = R->clen[q];
    const int32_t *ix = R->cidx[q];
    int64_t *lo = R->lo, *hi = R->hi;
    for (int64_t j = 0; j < len; j++) {
        int64_t g = ix[j];
        int64_t a = lo[g] - U, b = hi[g] - L;
        lo[g] = a > 0 ? a : 0;
        hi[g] = b > 0 ? b : 0;
    }
    int64_t i = R->nr++;
    R->rq[i] = q;
    R->rL[i] = L;
    R->rU[i] = U;
    R->ren[i] = e.num;
    R->red[i] = e.den;
    drop(R, q);
}

/* record layout, per round: winner, stale num[m], stale den[m], in the race[m] */
static void note_round(Run *R, int64_t q)
{
    int64_t m = R->m, *r = R->rec + R->nr * R->rec_w;
    r[0] = q;
    for (int64_t c = 0; c < m; c++) {
        r[1 + c] = R->stale[c].num;
        r[1 + m + c] = R->stale[c].den;
        r[1 + 2 * m + c] = R->in_race[c];
    }
}

/* Whether q, the winner here of the borrowed run's round too, wins it at every
   share up to the borrowed run's (bounds.BoundRun.wins_there). */
static int wins_there(const Run *R, int64_t q, int64_t U, rat e, const int64_t *there)
{
    const int64_t *mult = R->e->mult;
    int64_t m = R->m;
    rat x = e.den ? e : (rat){U, 1}, ur;
    if (!div_mult(x, mult[q], &ur))
        return 0;
    for (int64_t d = 0; d < m; d++) {
        if (d == q || !there[1 + 2 * m + d])
            continue;
        rat s = {there[1 + d], there[1 + m + d]};
        if (!loses(R, s, ur, q, d))
            return 0;
    }
    return 1;
}

/* cand = the projects in the race by increasing lower bound. An insertion sort of
   rem, which keeps the last round's order: nearly sorted already (only the bounds
   refreshed since have moved). */
static void sort_cand(Run *R)
{
    int64_t *a = R->rem, n = R->nrem;
    for (int64_t i = 1; i < n; i++) {
        int64_t x = a[i], j = i;
        while (j > 0 && rcmp(R->stale[a[j - 1]], R->stale[x]) > 0) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = x;
    }
    memcpy(R->cand, a, (size_t)n * sizeof(int64_t));
}

/* The MES loop from the current state (bounds.BoundRun.run). 0 ok, 1 undecided.
   brec/bn: the borrowed record (rounds of a run at a larger share, same D). */
static int run_loop(Run *R, const int64_t *brec, int64_t bn, int *certified)
{
    const int64_t *mult = R->e->mult, *tie = R->e->tie;
    int64_t m = R->m;
    int aligned = brec != NULL;
    *certified = aligned;
    for (;;) {
        tidy(R);
        if (R->nrem == 0)
            break;
        int64_t i = R->nr;
        const int64_t *there = NULL;
        if (aligned) {
            if (i == bn) { /* the run there ended: nothing is affordable here either */
                R->nrem = 0;
                break;
            }
            there = brec + i * R->rec_w;
            for (int64_t j = 0; j < R->nrem; j++) {
                int64_t d = R->rem[j];
                if (!there[1 + 2 * m + d]) {
                    drop(R, d); /* unaffordable there, so here */
                } else {
                    rat s = {there[1 + d], there[1 + m + d]};
                    if (rcmp(s, R->stale[d]) > 0)
                        R->stale[d] = s;
                }
            }
            tidy(R);
            if (R->nrem == 0)
                break;
        }
        sort_cand(R);
        R->stamp++;
        int64_t best = -1, best_p = 0, ncand = R->nrem;
        rat best_r = {0, 1};
        for (int64_t j = 0; j < ncand; j++) {
            int64_t c = R->cand[j];
            if (best >= 0 && rcmp(R->stale[c], best_r) > 0)
                break;
            int64_t p;
            int st = lower(R, c, floor_mul(R->stale[c], mult[c]), &p);
            if (st < 0)
                return 1;
            if (st == 0) {
                drop(R, c);
                continue;
            }
            rat r = {p, mult[c]};
            R->stale[c] = r;
            R->fresh[c] = R->stamp;
            int cm = best >= 0 ? rcmp(r, best_r) : -1;
            if (cm < 0 || (cm == 0 && tie[c] < tie[best])) {
                best = c;
                best_p = p;
                best_r = r;
            }
        }
        if (best < 0)
            break; /* nothing is affordable, for certain */
        tidy(R);
        int64_t U, q = best, L = best_p;
        rat e;
        if (upper(R, best, best_p, &U) != 1 || !decide(R, &q, &L, &U, &e))
            return 1;
        if (R->want_record)
            note_round(R, q);
        if (aligned) {
            if (q != there[0])
                aligned = *certified = 0;
            else if (*certified)
                *certified = wins_there(R, q, U, e, there);
        }
        fund(R, q, L, U, e);
    }
    if (aligned && R->nr != bn)
        *certified = 0;
    return 0;
}

/* bounds.BoundRun.certify: the number of rounds of plan (q, theta num, den:
   theta >= rho_q at the lower share, in this run's units) certified here;
   nplan + 1 when the end is too. -1 on error. */
static int64_t certify(Run *R, const int64_t *plan, int64_t nplan)
{
    const int64_t *mult = R->e->mult, *tie = R->e->tie;
    for (int64_t depth = 0; depth < nplan; depth++) {
        int64_t q = plan[3 * depth];
        rat th = {plan[3 * depth + 1], plan[3 * depth + 2]};
        if (q < 0 || q >= R->m || !R->in_race[q])
            return depth;
        tidy(R);
        R->stamp++;
        int64_t n = rivals(R, q, th);
        if (n < 0)
            return -1;
        for (int64_t i = 0; i < n; i++) {
            int64_t d = R->close[i];
            rat ed, kd;
            if (!exact(R, d, &ed) || !div_mult(ed, mult[d], &kd))
                return depth;
            int cm = rcmp(kd, th);
            if (cm < 0 || (cm == 0 && tie[d] < tie[q]))
                return depth; /* d may win this round somewhere in the interval */
            R->stale[d] = kd;
        }
        int64_t L, U;
        int st = lower(R, q, floor_mul(R->stale[q], mult[q]), &L);
        if (st < 0)
            return -1;
        if (st == 0)
            return depth;
        st = upper(R, q, L, &U);
        if (st < 0)
            return -1;
        if (st == 0)
            return depth;
        R->stale[q] = (rat){L, mult[q]};
        if (R->want_record)
            note_round(R, q);
        fund(R, q, L, U, (rat){0, 0});
    }
    tidy(R);
    for (int64_t i = 0; i < R->nrem; i++) {
        int64_t c = R->rem[i], S = 0, len = R->clen[c];
        const int32_t *ix = R->cidx[c], *w = R->cwt[c];
        if (R->costD[c] < 0)
            continue;
        for (int64_t j = 0; j < len; j++)
            S += R->hi[ix[j]] * w[j];
        if (S >= R->costD[c])
            return nplan; /* might be affordable after the last round somewhere */
    }
    return nplan + 1;
}

static int run_alloc(Run *R, const Elec *e)
{
    size_t m = (size_t)(e->m > 0 ? e->m : 1), g = (size_t)(e->n_groups > 0 ? e->n_groups : 1);
    size_t nnz = (size_t)(e->nnz > 0 ? e->nnz : 1);
    R->lo = malloc(g * sizeof(int64_t));
    R->hi = malloc(g * sizeof(int64_t));
    R->cidx = malloc(m * sizeof(int32_t *));
    R->cwt = malloc(m * sizeof(int32_t *));
    R->clen = malloc(m * sizeof(int64_t));
    R->dead = calloc(m, sizeof(int64_t));
    R->own = malloc(2 * nnz * sizeof(int32_t));
    R->costD = malloc(m * sizeof(int64_t));
    R->stale = malloc(m * sizeof(rat));
    R->in_race = calloc(m, 1);
    R->rem = malloc(m * sizeof(int64_t));
    R->fresh = calloc(m, sizeof(int64_t));
    R->close = malloc(m * sizeof(int64_t));
    R->cand = malloc(m * sizeof(int64_t));
    R->rq = malloc(m * sizeof(int64_t));
    R->rL = malloc(m * sizeof(int64_t));
    R->rU = malloc(m * sizeof(int64_t));
    R->ren = malloc(m * sizeof(int64_t));
    R->red = malloc(m * sizeof(int64_t));
    R->xs = malloc(nnz * sizeof(int64_t));
    R->ws = malloc(nnz * sizeof(int64_t));
    return R->lo && R->hi && R->cidx && R->cwt && R->clen && R->dead && R->own && R->costD &&
           R->stale && R->in_race && R->rem && R->fresh && R->close && R->cand && R->rq &&
           R->rL && R->rU && R->ren && R->red && R->xs && R->ws;
}

static PyObject *bytes_of(const int64_t *a, int64_t n)
{
    return PyBytes_FromStringAndSize((const char *)a, (Py_ssize_t)(n * (int64_t)sizeof(int64_t)));
}

static PyObject *py_run(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *cap, *o_alive, *o_plan, *o_borrow;
    long long D, lo0, hi0;
    int finish, want_record;
    if (!PyArg_ParseTuple(args, "OLLLOOpOp", &cap, &D, &lo0, &hi0, &o_alive, &o_plan, &finish,
                          &o_borrow, &want_record))
        return NULL;
    Elec *e = (Elec *)PyCapsule_GetPointer(cap, CAPSULE);
    if (e == NULL)
        return NULL;
    if (D < 1 || lo0 < 0 || (hi0 != lo0 && hi0 != lo0 + 1)) {
        PyErr_SetString(PyExc_ValueError, "bad D or starting money");
        return NULL;
    }
    Run R;
    memset(&R, 0, sizeof R);
    R.e = e;
    R.m = e->m;
    R.D = D;
    R.want_record = want_record;
    R.rec_w = 1 + 3 * e->m;
    Py_buffer alive = {0}, plan = {0}, borrow = {0};
    int have_alive = 0, have_plan = 0, have_borrow = 0;
    PyObject *result = NULL, *order = NULL, *rounds = NULL, *plan_out = NULL, *rec_out = NULL;
    int status = 0, certified = 0;
    int64_t depth = 0, nplan = 0, bn = 0;

    if (PyObject_GetBuffer(o_alive, &alive, PyBUF_C_CONTIGUOUS) < 0)
        goto done;
    have_alive = 1;
    if (o_plan != Py_None) {
        if (PyObject_GetBuffer(o_plan, &plan, PyBUF_C_CONTIGUOUS) < 0)
            goto done;
        have_plan = 1;
    }
    if (o_borrow != Py_None) {
        if (PyObject_GetBuffer(o_borrow, &borrow, PyBUF_C_CONTIGUOUS) < 0)
            goto done;
        have_borrow = 1;
    }
    if (alive.len % 8 || (have_plan && plan.len % 24) ||
        (have_borrow && borrow.len % (8 * R.rec_w))) {
        PyErr_SetString(PyExc_ValueError, "bad alive, plan or borrowed record buffer");
        goto done;
    }
    nplan = have_plan ? plan.len / 24 : 0;
    bn = have_borrow ? borrow.len / (8 * R.rec_w) : 0;
    if (!run_alloc(&R, e)) {
        PyErr_NoMemory();
        goto done;
    }
    if (want_record) {
        size_t rows = (size_t)(e->m > 0 ? e->m : 1) * (size_t)R.rec_w;
        R.rec = malloc(rows * sizeof(int64_t));
        if (R.rec == NULL) {
            PyErr_NoMemory();
            goto done;
        }
    }
    /* every sum of money over a project's supporters stays below 2**62 */
    if ((i128)e->maxtotal * hi0 >= LIMIT) {
        status = 1;
        goto build;
    }
    for (int64_t g = 0; g < e->n_groups; g++) {
        R.lo[g] = lo0;
        R.hi[g] = hi0;
    }
    for (int64_t c = 0; c < e->m; c++) {
        R.cidx[c] = e->idx + e->ptr[c];
        R.cwt[c] = e->wt + e->ptr[c];
        R.clen[c] = e->ptr[c + 1] - e->ptr[c];
        i128 cd = (i128)e->cost[c] * D;
        R.costD[c] = (e->cost[c] < 0 || cd >= LIMIT) ? -1 : (int64_t)cd;
        R.stale[c] = (rat){0, 1};
    }
    const int64_t *al = alive.buf;
    for (int64_t i = 0; i < alive.len / 8; i++) {
        int64_t c = al[i];
        if (c < 0 || c >= e->m || R.in_race[c] || e->cost[c] == 0 || e->total[c] == 0) {
            PyErr_SetString(PyExc_ValueError, "bad alive project");
            goto done;
        }
        R.in_race[c] = 1;
        R.rem[R.nrem++] = c;
        int64_t den; /* first lower bound: as if money were unlimited */
        if (R.costD[c] >= 0 && !__builtin_mul_overflow(e->total[c], e->mult[c], &den))
            R.stale[c] = (rat){R.costD[c], den};
    }
    if (have_plan) {
        const int64_t *pl = plan.buf;
        for (int64_t i = 0; i < nplan; i++)
            if (pl[3 * i + 1] < 0 || pl[3 * i + 2] < 1) {
                PyErr_SetString(PyExc_ValueError, "bad plan");
                goto done;
            }
        depth = certify(&R, pl, nplan);
        if (depth < 0) {
            status = 1;
            depth = 0;
        } else if (depth <= nplan && finish) {
            status = run_loop(&R, NULL, 0, &certified);
        }
        certified = 0;
    } else {
        if (have_borrow && e->m > 0) {
            const int64_t *b = borrow.buf;
            for (int64_t i = 0; i < bn; i++) { /* check it, for safety: winners, rationals */
                const int64_t *r = b + i * R.rec_w;
                int bad = r[0] < 0 || r[0] >= e->m;
                for (int64_t c = 0; c < e->m && !bad; c++)
                    bad = r[1 + c] < 0 || r[1 + e->m + c] < 1;
                if (bad) {
                    PyErr_SetString(PyExc_ValueError, "bad borrowed record");
                    goto done;
                }
            }
        }
        status = run_loop(&R, have_borrow ? borrow.buf : NULL, bn, &certified);
    }
build:
    if (status)
        R.nr = 0, certified = 0;
    order = PyList_New((Py_ssize_t)R.nr);
    if (order == NULL)
        goto done;
    for (int64_t i = 0; i < R.nr; i++) {
        PyObject *v = PyLong_FromLongLong(R.rq[i]);
        if (v == NULL)
            goto done;
        PyList_SET_ITEM(order, (Py_ssize_t)i, v);
    }
    {
        int64_t *buf = malloc((size_t)(R.nr > 0 ? R.nr : 1) * 5 * sizeof(int64_t));
        if (buf == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        for (int64_t i = 0; i < R.nr; i++) {
            int64_t *r = buf + 5 * i;
            r[0] = R.rq[i];
            r[1] = R.rL[i];
            r[2] = R.rU[i];
            r[3] = R.ren[i];
            r[4] = R.red[i];
        }
        rounds = bytes_of(buf, 5 * R.nr);
        /* the plan for a certificate at a larger share with the same D: theta =
           (exact or U) / mult; an exact theta whose denominator does not fit is
           rounded up (a weaker but valid certificate) */
        for (int64_t i = 0; i < R.nr; i++) {
            int64_t *r = buf + 3 * i, q = R.rq[i], den;
            rat x = R.red[i] ? (rat){R.ren[i], R.red[i]} : (rat){R.rU[i], 1};
            r[0] = q;
            if (__builtin_mul_overflow(x.den, e->mult[q], &den)) {
                r[1] = R.rU[i];
                r[2] = e->mult[q];
            } else {
                r[1] = x.num;
                r[2] = den;
            }
        }
        plan_out = rounds ? bytes_of(buf, 3 * R.nr) : NULL;
        free(buf);
        if (rounds == NULL || plan_out == NULL)
            goto done;
    }
    if (want_record && !status) {
        rec_out = bytes_of(R.rec, R.nr * R.rec_w);
        if (rec_out == NULL)
            goto done;
    } else {
        rec_out = Py_None;
        Py_INCREF(rec_out);
    }
    result = Py_BuildValue("(iLOOOOOL)", status, (long long)depth,
                           certified ? Py_True : Py_False, order, rounds, plan_out, rec_out,
                           (long long)R.evals);
done:
    Py_XDECREF(order);
    Py_XDECREF(rounds);
    Py_XDECREF(plan_out);
    Py_XDECREF(rec_out);
    if (have_alive)
        PyBuffer_Release(&alive);
    if (have_plan)
        PyBuffer_Release(&plan);
    if (have_borrow)
        PyBuffer_Release(&borrow);
    run_free(&R);
    return result;
}

static PyMethodDef methods[] = {
    {"election", py_election, METH_VARARGS,
     "election(n_groups, ptr, idx, wt, cost, mult, tie) -> capsule (int64 buffers)"},
    {"run", py_run, METH_VARARGS,
     "run(election, D, lo0, hi0, alive, plan, finish, borrow, record) -> "
     "(status, depth, certified, order, rounds, plan, record, evals)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_mes_kernel",
    "MES runs on exact integer bounds in C (optional; see pbvote.tally.mes.kernel).", -1,
    methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__mes_kernel(void)
{
    return PyModule_Create(&module);
}
