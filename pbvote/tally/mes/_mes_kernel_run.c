/* One MES run on exact integer bounds, in C (the half of pbvote.tally.mes._mes_kernel
   that computes; _mes_kernel.c is its Python interface and explains the method). */

#include "_mes_kernel.h"

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


void mes_run_free(Run *R)
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
int mes_run_loop(Run *R, const int64_t *brec, int64_t bn, int *certified)
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
int64_t mes_certify(Run *R, const int64_t *plan, int64_t nplan)
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

int mes_run_alloc(Run *R, const Elec *e)
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
