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

#include "_mes_kernel.h"

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
    if (!mes_run_alloc(&R, e)) {
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
        depth = mes_certify(&R, pl, nplan);
        if (depth < 0) {
            status = 1;
            depth = 0;
        } else if (depth <= nplan && finish) {
            status = mes_run_loop(&R, NULL, 0, &certified);
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
        status = mes_run_loop(&R, have_borrow ? borrow.buf : NULL, bn, &certified);
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
    mes_run_free(&R);
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
