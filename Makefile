# Makefile for recs, a PGXS extension.
#
#   make && make install        build and install into the server pg_config names
#   make installcheck           pg_regress suite against a running server
#   make fdw-installcheck       fdw/'s suite (needs a MongoDB server in RECS_TEST_MONGO_URI)
#   make prove_installcheck     TAP tests (they start their own clusters)
#   make test                   everything above on a throw-away cluster (scripts/test)
#   make bench                  benchmarks (bench/run)
#   make demo                   build, install and run the demo (scripts/demo)

EXTENSION = recs
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = recs
OBJS = \
	src/recs.o \
	src/cache/cache.o \
	src/cache/local_cache.o \
	src/cache/redis.o \
	src/cf/interactions.o \
	src/cf/similarity.o \
	src/eval/evaluate.o \
	src/eval/metrics.o \
	src/eval/tune.o \
	src/experiments/experiment_stats.o \
	src/experiments/exposure_queue.o \
	src/experiments/exposure_table.o \
	src/experiments/exposure_writer.o \
	src/experiments/routing.o \
	src/models/algorithm.o \
	src/models/bpr_mf.o \
	src/models/content.o \
	src/models/content_features.o \
	src/models/ease.o \
	src/models/factors.o \
	src/models/hybrid.o \
	src/models/hybrid_learn.o \
	src/models/ials.o \
	src/models/item_knn.o \
	src/models/ncf.o \
	src/models/nn.o \
	src/models/popular.o \
	src/models/training.o \
	src/models/user_knn.o \
	src/registry/artifact.o \
	src/registry/import_export.o \
	src/registry/model_cache.o \
	src/registry/source.o \
	src/registry/train.o \
	src/serve/explain.o \
	src/serve/predict.o \
	src/serve/recommend.o \
	src/serve/rules.o \
	src/serve/serve.o \
	src/serve/topk.o \
	src/serve/topk_heap.o \
	src/types/embedding.o \
	src/types/embedding_agg.o \
	src/types/embedding_cast.o \
	src/types/embedding_kernels.o \
	src/types/embedding_ops.o \
	src/worker/worker.o

# The install script is assembled from one piece per subsystem, kept next to
# the C code it declares.  Order matters: later pieces use earlier objects.
SQL_PARTS = \
	src/recs.sql \
	src/types/embedding.sql \
	src/registry/registry.sql \
	src/cf/cf.sql \
	src/eval/metrics.sql \
	src/eval/evaluate.sql \
	src/eval/tune.sql \
	src/experiments/experiments.sql \
	src/experiments/report.sql \
	src/experiments/monitoring.sql \
	src/serve/online.sql \
	src/cache/cache.sql \
	src/worker/worker.sql
DATA_built = $(EXTENSION)--$(EXTVERSION).sql

# One pg_regress file per feature in sql/, expected output in expected/.
REGRESS = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS = --load-extension=$(EXTENSION)
# Concurrency tests (isolationtester), one spec per behaviour in specs/.
ISOLATION = $(sort $(basename $(notdir $(wildcard specs/*.spec))))
ISOLATION_OPTS = --load-extension=$(EXTENSION)
TAP_TESTS = 1

# External libraries, found with pkg-config.  hiredis (cache) and libmongoc
# (fdw/) join as their subsystems land; BLAS is used by the model kernels.
PKG_CONFIG ?= pkg-config
BLAS_PKG ?= openblas
BLAS_LIBS := $(shell $(PKG_CONFIG) --libs $(BLAS_PKG) 2>/dev/null)
ifeq ($(BLAS_LIBS),)
$(error pkg-config cannot find $(BLAS_PKG); install libopenblas-dev or set BLAS_PKG)
endif

# hiredis: the Redis client of the cache (src/cache/).
HIREDIS_PKG ?= hiredis
HIREDIS_LIBS := $(shell $(PKG_CONFIG) --libs $(HIREDIS_PKG) 2>/dev/null)
ifeq ($(HIREDIS_LIBS),)
$(error pkg-config cannot find $(HIREDIS_PKG); install libhiredis-dev or set HIREDIS_PKG)
endif

PG_CPPFLAGS = -I$(srcdir)/src $(shell $(PKG_CONFIG) --cflags $(BLAS_PKG) $(HIREDIS_PKG))
# -Wextra minus unused-parameter, which PostgreSQL's own headers trigger.
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter
SHLIB_LINK = $(BLAS_LIBS) $(HIREDIS_LIBS) -lm

# The distance kernels are plain loops; these flags let the compiler reorder
# float additions so it can vectorise the reductions.  No -march: faster
# instruction sets are chosen at run time (src/types/embedding_kernels.c).
KERNEL_FLAGS = -ftree-vectorize -fassociative-math -fno-signed-zeros -fno-trapping-math

# Track header dependencies (Debian's PGXS ships with autodepend off), so a
# changed header rebuilds what includes it.
override autodepend := yes
# (.deps/ is flat: source file names must be unique across src/.)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS has no target that runs only the TAP tests; scripts/test runs them on
# their own, as the postgres user, because initdb refuses to run as root.
.PHONY: prove_installcheck
prove_installcheck:
	$(prove_installcheck)

# fdw/ holds a second extension, recs_mongo_fdw (the MongoDB foreign data
# wrapper), with its own PGXS Makefile: `make` and `make install` build and
# install it too.  Its pg_regress suite needs a MongoDB server, so it is not
# part of `make installcheck`: `make fdw-installcheck` runs it against
# RECS_TEST_MONGO_URI (scripts/test starts test/mongo/server.py for it).
FDW_DIR = $(srcdir)/fdw
.PHONY: fdw-all fdw-install fdw-uninstall fdw-clean fdw-installcheck
all: fdw-all
install: fdw-install
uninstall: fdw-uninstall
clean: fdw-clean
fdw-all:
	$(MAKE) -C $(FDW_DIR) PG_CONFIG=$(PG_CONFIG) all
fdw-install:
	$(MAKE) -C $(FDW_DIR) PG_CONFIG=$(PG_CONFIG) install
fdw-uninstall:
	$(MAKE) -C $(FDW_DIR) PG_CONFIG=$(PG_CONFIG) uninstall
fdw-clean:
	$(MAKE) -C $(FDW_DIR) PG_CONFIG=$(PG_CONFIG) clean
fdw-installcheck:
	$(MAKE) -C $(FDW_DIR) PG_CONFIG=$(PG_CONFIG) installcheck

src/types/embedding_kernels.o: CFLAGS += $(KERNEL_FLAGS)
src/types/embedding_kernels.bc: BITCODE_CFLAGS += $(KERNEL_FLAGS)

$(DATA_built): $(SQL_PARTS) $(EXTENSION).control
	cat $(SQL_PARTS) > $@

.PHONY: test bench demo
test:
	scripts/test

bench:
	bench/run

demo:
	scripts/demo
