#!/usr/bin/python3
"""bench/lib/torch_reference.py: reference implementations for bench/models.sh.

The same four models recs trains in C, written the way a data scientist
would write them with PyTorch (CPU) or numpy/scipy, trained on the same NCF
MovieLens 1M training file with the same hyperparameters, timed per epoch
on one core, and measured with the same protocol as recs_evaluate_split:
each user's test item ranked among the user's 99 negatives (as a set, plus
the test item), candidates outside the training catalogue dropped, equal
scores ordered by item id.

    torch_reference.py MODEL PARAMS_JSON NCF_DIR OUT_DIR

MODEL is ease, ials, bpr_mf or ncf; PARAMS_JSON the recs params of the
model (defaults filled in as recs fills them).  Prints a tab-separated
line per implementation: model, implementation, epochs (repeats for
ease), median seconds per epoch, total fit seconds, HR@10, NDCG@10, the
BLAS/threads setup.  For ials and bpr_mf it also writes the learned
factors to OUT_DIR/{users,items}.tsv (id, factors as a real[] literal, and
for bpr_mf the item bias) for recs_import.

What each reference computes:
  ease    the closed form in numpy/scipy float32: G = X'X + lambda I (one
          sgemm), P = G^-1, B = -P / diag(P), diag(B) = 0, with P from the
          Cholesky factor (LAPACK spotrf + spotri, as recs) and, second, with
          np.linalg.inv as in Steck's published code.  Each fit is repeated
          3 times and the median reported.
  ials    Hu, Koren and Volinsky's ALS in numpy float32 with recs's
          objective and order: items first from N(0, 0.01^2) user factors,
          each row's normal equations w0 Y'Y + sum (c - w0) y y' + lambda I
          built from the row's gathered factor rows and solved by Cholesky
          (LAPACK sposv through scipy), one row at a time.
  bpr_mf  PyTorch: user/item embeddings (sparse gradients) and item biases,
          -sum ln sigma(y_ui - y_uj) plus lambda times the squares of the
          rows each triple touches, one uniformly drawn unobserved item per
          pair, over shuffled mini-batches of 1024 triples: SGD on the
          summed loss (so lr means what it means per triple in recs) or
          SparseAdam (lazy Adam, as recs's "adam").  N(0, 0.1^2) factors.
  ncf     PyTorch NeuMF: GMF and MLP embeddings (sparse), the ReLU tower,
          one prediction unit over [GMF, MLP]; pairwise BPR loss or
          binary cross-entropy with sampled negatives, batch mean; Adam for
          the dense layers and SparseAdam (lazy) for the embeddings; the
          paper's initialisation (N(0, 0.01^2) embeddings, Glorot-uniform
          dense layers, LeCun-uniform prediction unit, zero biases).
Everything runs on one thread (torch.set_num_threads(1), OpenBLAS limited
to 1 thread through threadpoolctl) for a per-core comparison with
recs.train_threads = 1.
"""

import json
import math
import os
import sys
import time

import numpy as np

try:
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError:  # pragma: no cover - python3-threadpoolctl missing
    threadpool_info = None
    threadpool_limits = None


def read_rows(path):
    """A file of `user item rating timestamp` lines as an (n, 4) int64 array."""
    with open(path, "rb") as f:
        data = np.array(f.read().split(), dtype=np.int64)
    return data.reshape(-1, 4)


class Data:
    """The NCF split: training pairs, each user's test item and negatives."""

    def __init__(self, ncf_dir):
        train = read_rows(os.path.join(ncf_dir, "ml-1m.train.rating"))
        test = read_rows(os.path.join(ncf_dir, "ml-1m.test.rating"))
        self.users = train[:, 0]
        self.items = train[:, 1]
        self.test_user = test[:, 0]
        self.test_item = test[:, 1]
        negatives = {}
        with open(os.path.join(ncf_dir, "ml-1m.test.negative")) as f:
            for line in f:
                fields = line.split()
                if not fields:
                    continue
                u = int(fields[0].strip("()").split(",")[0])
                negatives[u] = np.array(sorted(set(int(x) for x in fields[1:])),
                                        dtype=np.int64)
        self.negatives = negatives
        top_item = max(int(self.items.max()), int(self.test_item.max()),
                       max(int(v.max()) for v in negatives.values()))
        self.n_users = int(max(self.users.max(), self.test_user.max())) + 1
        self.n_items = top_item + 1
        self.in_train = np.zeros(self.n_items, dtype=bool)
        self.in_train[self.items] = True
        # each test user's candidates: the negatives as a set plus the test
        # item, only items of the training catalogue, padded to one width
        rows = []
        for u, t in zip(self.test_user, self.test_item):
            c = np.union1d(negatives.get(int(u), np.empty(0, dtype=np.int64)), [t])
            rows.append(c[self.in_train[c]])
        width = max(len(r) for r in rows)
        self.cand = np.zeros((len(rows), width), dtype=np.int64)
        self.valid = np.zeros((len(rows), width), dtype=bool)
        for r, c in enumerate(rows):
            self.cand[r, :len(c)] = c
            self.valid[r, :len(c)] = True

    def csr(self):
        import scipy.sparse as sp
        values = np.ones(self.users.size, dtype=np.float32)
        m = sp.csr_matrix((values, (self.users, self.items)),
                          shape=(self.n_users, self.n_items), dtype=np.float32)
        m.sum_duplicates()
        m.sort_indices()
        return m

    def evaluate(self, scores, k=10):
        """HR@k and NDCG@k from scores[r, c] of user test_user[r] for cand[r, c]."""
        scores = np.asarray(scores, dtype=np.float64)
        t = self.test_item[:, None]
        is_test = (self.cand == t) & self.valid
        found = is_test.any(axis=1)  # test item outside the catalogue: a miss
        st = np.where(is_test, scores, -np.inf).max(axis=1)[:, None]
        ahead = self.valid & ((scores > st) | ((scores == st) & (self.cand < t)))
        rank = ahead.sum(axis=1)
        hit = found & (rank < k)
        n = len(self.test_user)
        return (float(hit.sum()) / n,
                float(np.where(hit, 1.0 / np.log2(rank + 2.0), 0.0).sum()) / n)

    def factor_scores(self, users, items, bias=None):
        """Scores of every test user's candidates under a dot-product model."""
        s = np.einsum("rf,rcf->rc", users[self.test_user], items[self.cand])
        if bias is not None:
            s = s + bias[self.cand]
        return s


def write_factors(out_dir, users, items, bias=None):
    os.makedirs(out_dir, exist_ok=True)

    def dump(path, matrix, extra=None):
        with open(path, "w") as f:
            for r in range(matrix.shape[0]):
                vec = ",".join(repr(float(x)) for x in matrix[r])
                if extra is None:
                    f.write(f"{r}\t{{{vec}}}\n")
                else:
                    f.write(f"{r}\t{{{vec}}}\t{float(extra[r])!r}\n")

    dump(os.path.join(out_dir, "users.tsv"), users)
    dump(os.path.join(out_dir, "items.tsv"), items, bias)


# ---------------------------------------------------------------- EASE

def run_ease(data, params, out_dir):
    from scipy.linalg import lapack

    lam = np.float32(params.get("lambda", 500))
    x = data.csr()

    def gram():
        xd = x.toarray()
        g = xd.T @ xd  # sgemm; faster here than the sparse product
        g[np.diag_indices_from(g)] += lam
        return g

    def fit_cholesky():
        # P = G^-1 from the Cholesky factor, as recs computes it
        c, info = lapack.spotrf(gram(), lower=1)
        if info != 0:
            raise RuntimeError("ease reference: not positive definite")
        p, info = lapack.spotri(c, lower=1)
        p = np.tril(p) + np.tril(p, -1).T
        b = p / (-np.diag(p))
        b[np.diag_indices_from(b)] = 0.0
        return b

    def fit_inverse():
        # Steck's published code: np.linalg.inv
        p = np.linalg.inv(gram())
        b = p / (-np.diag(p))
        b[np.diag_indices_from(b)] = 0.0
        return b

    results = []
    for name, fit in (("numpy/scipy EASE, Cholesky inverse", fit_cholesky),
                      ("numpy EASE, np.linalg.inv (Steck's code)", fit_inverse)):
        times = []
        b = None
        for _ in range(3):
            b = None
            start = time.perf_counter()
            b = fit()
            times.append(time.perf_counter() - start)
        full = np.asarray(x[data.test_user] @ b)
        hr, nd = data.evaluate(np.take_along_axis(full, data.cand, axis=1))
        results.append((name, times, float(np.median(times)), hr, nd))
    return results


# ---------------------------------------------------------------- iALS

def run_ials(data, params, out_dir):
    from scipy.linalg import lapack

    f = int(params.get("factors", 64))
    iterations = int(params.get("iterations", 15))
    lam = np.float32(params.get("regularization", 1.0))
    alpha = np.float32(params.get("alpha", 2.0))
    w0 = np.float32(params.get("unobserved_weight", 1.0))
    seed = int(params.get("seed", 42))

    by_user = data.csr()
    by_item = by_user.T.tocsr()
    by_item.sort_indices()
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((data.n_users, f)) * 0.01).astype(np.float32)
    y = np.zeros((data.n_items, f), dtype=np.float32)
    eye = np.eye(f, dtype=np.float32) * lam

    def half_step(rows, other, out):
        gram = other.T @ other
        base = w0 * gram + eye
        indptr, indices, values = rows.indptr, rows.indices, rows.data
        for r in range(rows.shape[0]):
            lo, hi = indptr[r], indptr[r + 1]
            if lo == hi:
                out[r] = 0.0
                continue
            ys = other[indices[lo:hi]]
            c = 1.0 + alpha * values[lo:hi]
            a = base + (ys.T * (c - w0)) @ ys
            rhs = ys.T @ c
            _, sol, info = lapack.sposv(a, rhs, lower=1)
            if info != 0:
                raise RuntimeError("ials reference: not positive definite")
            out[r] = sol

    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        half_step(by_item, x, y)
        half_step(by_user, y, x)
        times.append(time.perf_counter() - start)

    hr, nd = data.evaluate(data.factor_scores(x, y))
    write_factors(out_dir, x, y)
    return [("numpy/scipy iALS, Cholesky per row", times, float(sum(times)), hr, nd)]


# ---------------------------------------------------------------- negatives

class Sampler:
    """Uniform draws among the items a user has not interacted with."""

    def __init__(self, data, gen):
        import torch
        self.torch = torch
        self.seen = torch.zeros((data.n_users, data.n_items), dtype=torch.bool)
        self.seen[torch.from_numpy(data.users), torch.from_numpy(data.items)] = True
        # items outside the training catalogue are no candidates in recs
        self.catalogue = torch.from_numpy(np.flatnonzero(data.in_train))
        self.gen = gen

    def draw(self, users):
        torch = self.torch
        j = self.catalogue[torch.randint(0, self.catalogue.numel(), users.shape,
                                         generator=self.gen)]
        bad = self.seen[users, j]
        while bool(bad.any()):
            idx = bad.nonzero(as_tuple=True)[0]
            j[idx] = self.catalogue[torch.randint(0, self.catalogue.numel(), idx.shape,
                                                  generator=self.gen)]
            bad[idx] = self.seen[users[idx], j[idx]]
        return j


# ---------------------------------------------------------------- BPR-MF

def run_bpr(data, params, out_dir):
    import torch

    k = int(params.get("factors", 64))
    adam = params.get("optimizer", "sgd") == "adam"
    lr = float(params.get("learning_rate", 0.001 if adam else 0.05))
    reg = float(params.get("regularization", 0.0025))
    epochs = int(params.get("epochs", 20))
    negatives = int(params.get("negatives", 1))
    seed = int(params.get("seed", 42))
    batch = 1024

    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    users_emb = torch.nn.Embedding(data.n_users, k, sparse=True)
    items_emb = torch.nn.Embedding(data.n_items, k, sparse=True)
    bias = torch.nn.Embedding(data.n_items, 1, sparse=True)
    with torch.no_grad():
        users_emb.weight.normal_(0.0, 0.1, generator=gen)
        items_emb.weight.normal_(0.0, 0.1, generator=gen)
        bias.weight.zero_()
    params_list = list(users_emb.parameters()) + list(items_emb.parameters()) + \
        list(bias.parameters())
    opt = torch.optim.SparseAdam(params_list, lr=lr) if adam else \
        torch.optim.SGD(params_list, lr=lr)
    sampler = Sampler(data, gen)
    pu_all = torch.from_numpy(data.users).repeat(negatives)
    pi_all = torch.from_numpy(data.items).repeat(negatives)

    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(pu_all.numel(), generator=gen)
        u_all = pu_all[order]
        i_all = pi_all[order]
        j_all = sampler.draw(u_all)
        for s in range(0, u_all.numel(), batch):
            u = u_all[s:s + batch]
            i = i_all[s:s + batch]
            j = j_all[s:s + batch]
            pu, qi, qj = users_emb(u), items_emb(i), items_emb(j)
            bi, bj = bias(i).squeeze(1), bias(j).squeeze(1)
            x = bi - bj + (pu * (qi - qj)).sum(1)
            loss = -torch.nn.functional.logsigmoid(x).sum()
            if reg > 0:
                loss = loss + reg * (pu.pow(2).sum() + qi.pow(2).sum() + qj.pow(2).sum()
                                     + bi.pow(2).sum() + bj.pow(2).sum())
            if adam:
                loss = loss / u.numel()
            opt.zero_grad()
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - start)

    p = users_emb.weight.detach().numpy()
    q = items_emb.weight.detach().numpy()
    b = bias.weight.detach().numpy().ravel()
    hr, nd = data.evaluate(data.factor_scores(p, q, b))
    write_factors(out_dir, p, q, b)
    return [("PyTorch BPR-MF, %s, batch %d" % ("SparseAdam" if adam else "sparse SGD", batch),
             times, float(sum(times)), hr, nd)]


# ---------------------------------------------------------------- NeuMF

def run_ncf(data, params, out_dir):
    import torch
    from torch import nn

    variant = params.get("variant", "neumf")
    if variant != "neumf":
        raise SystemExit("torch_reference: only the neumf variant is implemented")
    factors = int(params.get("factors", 32))
    layers = [int(v) for v in params.get("layers", [64, 32, 16])]
    logloss = params.get("loss", "bpr") == "logloss"
    negatives = int(params.get("negatives", 4 if logloss else 1))
    lr = float(params.get("learning_rate", 0.001))
    reg = float(params.get("regularization", 0.0))
    epochs = int(params.get("epochs", 20))
    batch = int(params.get("batch_size", 256))
    seed = int(params.get("seed", 42))

    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)

    class NeuMF(nn.Module):
        def __init__(self):
            super().__init__()
            half = layers[0] // 2
            self.gu = nn.Embedding(data.n_users, factors, sparse=True)
            self.gi = nn.Embedding(data.n_items, factors, sparse=True)
            self.mu = nn.Embedding(data.n_users, half, sparse=True)
            self.mi = nn.Embedding(data.n_items, half, sparse=True)
            tower = []
            for a, b in zip(layers[:-1], layers[1:]):
                lin = nn.Linear(a, b)
                nn.init.xavier_uniform_(lin.weight)
                nn.init.zeros_(lin.bias)
                tower += [lin, nn.ReLU()]
            self.tower = nn.Sequential(*tower)
            self.out = nn.Linear(factors + layers[-1], 1)
            bound = math.sqrt(3.0 / (factors + layers[-1]))
            nn.init.uniform_(self.out.weight, -bound, bound)
            nn.init.zeros_(self.out.bias)
            for e in (self.gu, self.gi, self.mu, self.mi):
                nn.init.normal_(e.weight, 0.0, 0.01)

        def forward(self, u, i):
            gu, gi, mu, mi = self.gu(u), self.gi(i), self.mu(u), self.mi(i)
            z = torch.cat([gu * gi, self.tower(torch.cat([mu, mi], 1))], 1)
            y = self.out(z).squeeze(1)
            if reg > 0:
                pen = gu.pow(2).sum() + gi.pow(2).sum() + mu.pow(2).sum() + mi.pow(2).sum()
                return y, pen
            return y, None

    model = NeuMF()
    sparse_params = [model.gu.weight, model.gi.weight, model.mu.weight, model.mi.weight]
    dense_params = list(model.tower.parameters()) + list(model.out.parameters())
    opt_sparse = torch.optim.SparseAdam(sparse_params, lr=lr)
    opt_dense = torch.optim.Adam(dense_params, lr=lr)
    sampler = Sampler(data, gen)
    pu_all = torch.from_numpy(data.users)
    pi_all = torch.from_numpy(data.items)
    dense_weights = [p for n_, p in model.named_parameters()
                     if n_.endswith("weight") and (n_.startswith("tower") or n_.startswith("out"))]

    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(pu_all.numel(), generator=gen)
        u_all = pu_all[order]
        i_all = pi_all[order]
        j_all = sampler.draw(u_all.repeat_interleave(negatives)).view(-1, negatives)
        for s in range(0, u_all.numel(), batch):
            u = u_all[s:s + batch]
            i = i_all[s:s + batch]
            j = j_all[s:s + batch]
            if logloss:
                uu = torch.cat([u, u.repeat_interleave(negatives)])
                ii = torch.cat([i, j.reshape(-1)])
                labels = torch.cat([torch.ones(u.numel()), torch.zeros(j.numel())])
                y, pen = model(uu, ii)
                loss = nn.functional.binary_cross_entropy_with_logits(y, labels)
            else:
                uu = torch.cat([u, u])
                ii = torch.cat([i, j[:, 0]])
                y, pen = model(uu, ii)
                loss = -nn.functional.logsigmoid(y[:u.numel()] - y[u.numel():]).mean()
            if reg > 0:
                loss = loss + reg * (pen + sum(w.pow(2).sum() for w in dense_weights))
            opt_sparse.zero_grad()
            opt_dense.zero_grad()
            loss.backward()
            opt_sparse.step()
            opt_dense.step()
        times.append(time.perf_counter() - start)

    model.eval()

    with torch.no_grad():
        c = torch.from_numpy(data.cand.reshape(-1))
        u = torch.from_numpy(data.test_user).repeat_interleave(data.cand.shape[1])
        y = torch.cat([model(u[s:s + 65536], c[s:s + 65536])[0]
                       for s in range(0, c.numel(), 65536)])
    hr, nd = data.evaluate(y.numpy().reshape(data.cand.shape))
    return [("PyTorch NeuMF, Adam + SparseAdam", times, float(sum(times)), hr, nd)]


RUNNERS = {"ease": run_ease, "ials": run_ials, "bpr_mf": run_bpr, "ncf": run_ncf}


def blas_setup():
    parts = []
    if threadpool_info is not None:
        for lib in threadpool_info():
            if lib.get("internal_api") == "openblas":
                parts.append("OpenBLAS %s %s kernel, %d thread(s)" % (
                    lib.get("version"), lib.get("architecture"), lib.get("num_threads")))
    return "; ".join(parts) or "BLAS unknown"


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    model, params_json, ncf_dir, out_dir = sys.argv[1:]
    params = json.loads(params_json)
    if model in ("bpr_mf", "ncf"):
        import torch
        torch.set_num_threads(1)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass
    data = Data(ncf_dir)
    if threadpool_limits is not None:
        threadpool_limits(limits=1)  # stays in force for the process
    setup = blas_setup()
    if model in ("bpr_mf", "ncf"):
        import torch
        setup = "PyTorch %s, %d thread; %s" % (torch.__version__, torch.get_num_threads(), setup)
    else:
        setup = "numpy %s; %s" % (np.__version__, setup)
    for name, times, total, hr, nd in RUNNERS[model](data, params, out_dir):
        print("\t".join([model, name, str(len(times)), "%.4f" % float(np.median(times)),
                         "%.3f" % total, "%.4f" % hr, "%.4f" % nd, setup]), flush=True)


if __name__ == "__main__":
    main()
