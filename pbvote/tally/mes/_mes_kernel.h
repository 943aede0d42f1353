/* Shared by the two halves of the C kernel (pbvote.tally.mes._mes_kernel):
   _mes_kernel.c (the Python interface: the election capsule, run()) and
   _mes_kernel_run.c (one MES run on exact integer bounds). See the comment at
   the top of _mes_kernel.c for the method and its guarantees. */

#ifndef PBVOTE_MES_KERNEL_H
#define PBVOTE_MES_KERNEL_H

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

/* _mes_kernel_run.c */
int mes_run_alloc(Run *R, const Elec *e);  /* 0 ok, -1 out of memory */
void mes_run_free(Run *R);
/* the MES loop from the current state; brec: the record of a run to borrow from */
int mes_run_loop(Run *R, const int64_t *brec, int64_t bn, int *certified);
/* the number of rounds of plan certified (nplan + 1: the end too) */
int64_t mes_certify(Run *R, const int64_t *plan, int64_t nplan);

#endif
