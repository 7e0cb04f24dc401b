# pg_exporter: PostgreSQL extension whose background worker serves Prometheus metrics.
# Build with PGXS: make && make install && make installcheck

MODULE_big = pg_exporter
EXTENSION  = pg_exporter
DATA       = pg_exporter--1.0.sql pg_exporter--1.0--1.1.sql
PGFILEDESC = "pg_exporter - Prometheus exporter inside PostgreSQL"

# gzip (src/compress/gzip.h): ISA-L's igzip where pkg-config finds libisal
# (4.5x zlib's speed on an exposition, bench/compress.cpp), else zlib.
# GZIP=zlib forces zlib.
GZIP ?= $(shell pkg-config --exists libisal && echo isal || echo zlib)
GZIP_SRC  := src/compress/gzip_$(GZIP).cpp
GZIP_LIBS := $(if $(filter isal,$(GZIP)),$(shell pkg-config --libs libisal))
SRCS := $(sort $(filter-out src/compress/gzip_%.cpp,$(wildcard src/*.cpp src/*/*.cpp)) $(GZIP_SRC))
OBJS  = $(SRCS:.cpp=.o)

REGRESS      = setup sql_interface guc collectors wal tables connections vacuum locks_more statements settings_restart buffercache relation_filter custom_metrics upgrade
REGRESS_OPTS = --temp-instance=./tmp_check_regress --temp-config=./test/regress.conf
TAP_TESTS    = 1

PG_CONFIG ?= pg_config

# PostgreSQL headers as system headers: their unused parameters and `register`
# would otherwise drown our own -Wextra warnings.
PG_INCLUDE := $(shell $(PG_CONFIG) --includedir-server)
PROM_CFLAGS := $(shell pkg-config --cflags prometheus-cpp-core)
PROM_LIBS   := $(shell pkg-config --libs prometheus-cpp-core)
# libcrypto parses the server certificate (ssl collector); PostgreSQL links it too.
CRYPTO_CFLAGS := $(shell pkg-config --cflags libcrypto)
CRYPTO_LIBS   := $(shell pkg-config --libs libcrypto)
# The endpoint (issue 14): TLS (libssl, as PostgreSQL), gzip (zlib, as
# PostgreSQL), bcrypt (libxcrypt's crypt_r), the web config file (yaml-cpp).
ENDPOINT_CFLAGS := $(shell pkg-config --cflags libssl zlib yaml-cpp)
ENDPOINT_LIBS   := $(shell pkg-config --libs libssl zlib yaml-cpp libcrypt)

PG_CPPFLAGS = -isystem $(PG_INCLUDE) -Isrc $(PROM_CFLAGS) $(CRYPTO_CFLAGS) $(ENDPOINT_CFLAGS)
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -fvisibility-inlines-hidden -MMD -MP
# WERROR=1 (CI): every supported server version must build warning-free.
ifneq ($(WERROR),)
PG_CXXFLAGS += -Werror
endif
# gcc -shared links the module: libstdc++ is not added for us.
SHLIB_LINK += $(PROM_LIBS) $(CRYPTO_LIBS) $(ENDPOINT_LIBS) $(GZIP_LIBS) -lstdc++

# Sanitizer build: ASan + UBSan, every report fatal (no recovery), no
# -fwrapv so that signed overflow is reported. The unit tests always use it;
# `make SANITIZE=1` builds the module itself from the same objects (build/san),
# which .ci/sanitize.sh runs inside real servers. -O0 -g1 (line tables for
# the reports) compiles in half the time of -O1 -g.
SAN_FLAGS = -O0 -g1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
SAN_DIR   = build/san
SAN_SRCS  = $(sort $(SRCS) $(UNIT_SRCS))
ifeq ($(SANITIZE),1)
OBJS = $(patsubst %.cpp,$(SAN_DIR)/%.o,$(SRCS))
SHLIB_LINK += -fsanitize=address,undefined
endif

EXTRA_CLEAN = $(SRCS:.cpp=.d) tmp_check_regress test/unit/*.bin build

PGXS := $(shell $(PG_CONFIG) --pgxs)
# Debian's PGXS would also compile every .cpp to JIT bitcode with clang-14 and
# without our flags; a metrics worker gains nothing from JIT inlining.
override with_llvm = no
include $(PGXS)

-include $(SRCS:.cpp=.d)

# Unit tests of the parts that include no PostgreSQL header (HTTP parser,
# /proc parsers, exposition helpers), run before the cluster tests.
UNIT_SRCS := test/unit/main.cpp test/unit/no_server.cpp $(sort $(wildcard test/unit/*_test.cpp))
# Collectors link in too (all but context.cpp, their only door to the server),
# so that their version-dependent SQL builders are unit-tested for every
# supported server version; test/unit/no_server.cpp stands in for that door.
UNIT_LIB_SRCS := src/pg/result.cpp src/scrape/remote.cpp $(GZIP_SRC) $(sort $(wildcard src/http/*.cpp src/procfs/*.cpp src/metrics/*.cpp src/spool/*.cpp src/tls/*.cpp src/datadir/*.cpp src/webconfig/*.cpp)) \
                 $(filter-out src/collectors/context.cpp,$(sort $(wildcard src/collectors/*.cpp)))
UNIT_OBJS := $(patsubst %.cpp,$(SAN_DIR)/%.o,$(UNIT_SRCS) $(UNIT_LIB_SRCS))

# One object per source (make -j2 compiles two at a time), with header
# dependencies; PostgreSQL's headers are there for the module's own files.
$(SAN_DIR)/%.o: %.cpp
	@mkdir -p $(@D)
	$(CXX) -std=c++17 -Wall -Wextra -fPIC -fno-strict-aliasing $(SAN_FLAGS) -MMD -MP \
	    -isystem $(PG_INCLUDE) -Isrc -Itest/unit $(PROM_CFLAGS) $(CRYPTO_CFLAGS) $(ENDPOINT_CFLAGS) -c -o $@ $<
-include $(patsubst %.cpp,$(SAN_DIR)/%.d,$(SAN_SRCS))

test/unit/all_tests.bin: $(UNIT_OBJS)
	$(CXX) $(SAN_FLAGS) -o $@ $(UNIT_OBJS) $(PROM_LIBS) $(CRYPTO_LIBS) $(ENDPOINT_LIBS) $(GZIP_LIBS)

unitcheck: test/unit/all_tests.bin
	./test/unit/all_tests.bin

# CI runs the unit tests once, in its sanitizer step (from the objects that
# build the sanitized module too): UNITCHECK=no leaves them out here.
ifneq ($(UNITCHECK),no)
installcheck: unitcheck
endif
.PHONY: unitcheck

# libFuzzer targets (clang; Debian's libclang-rt-14-dev has the runtime) for
# the code that reads untrusted bytes: `make fuzz` builds them into
# build/fuzz, .ci/fuzz.sh runs each on its corpus in test/fuzz/corpus.
FUZZ_CXX     ?= clang++-14
FUZZ_FLAGS    = -std=c++17 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_DIR      = build/fuzz
FUZZ_TARGETS  = http_request http_server tls_server webconfig procfs certificate
fuzz_srcs_http_request = src/http/request.cpp src/http/text.cpp
# The server with everything it sends through: TLS, gzip, OpenMetrics, access.
fuzz_srcs_http_server  = src/http/server.cpp src/http/request.cpp src/http/text.cpp src/http/response.cpp src/spool/file.cpp \
                         src/http/access.cpp src/http/basic_auth.cpp src/http/body_stream.cpp src/http/negotiate.cpp \
                         src/http/tls_server.cpp src/metrics/openmetrics.cpp src/tls/certificate.cpp $(GZIP_SRC)
fuzz_libs_http_server  = $(CRYPTO_LIBS) $(ENDPOINT_LIBS) $(GZIP_LIBS)
fuzz_srcs_tls_server   = $(fuzz_srcs_http_server)
fuzz_libs_tls_server   = $(fuzz_libs_http_server)
fuzz_srcs_webconfig    = src/webconfig/web_config.cpp src/tls/certificate.cpp src/http/basic_auth.cpp src/http/negotiate.cpp src/http/text.cpp
fuzz_libs_webconfig    = $(CRYPTO_LIBS) $(ENDPOINT_LIBS)
fuzz_srcs_procfs       = src/procfs/process_stat.cpp
fuzz_srcs_certificate  = src/tls/certificate.cpp
fuzz_libs_certificate  = $(CRYPTO_LIBS)

.SECONDEXPANSION:
$(FUZZ_DIR)/%: test/fuzz/%_fuzz.cpp $$(fuzz_srcs_$$*) $$(wildcard src/*/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CXX) $(FUZZ_FLAGS) -Isrc $(CRYPTO_CFLAGS) $(ENDPOINT_CFLAGS) -o $@ $< $(fuzz_srcs_$*) $(fuzz_libs_$*)

fuzz: $(addprefix $(FUZZ_DIR)/,$(FUZZ_TARGETS))
.PHONY: fuzz
print-fuzz-targets:
	@echo $(FUZZ_TARGETS)
.PHONY: print-fuzz-targets

# The whole suite with the module under ASan+UBSan in real servers, and the
# fuzzers for FUZZ_SECONDS each (see README, "Running the tests").
sanitize-check:
	bash .ci/sanitize.sh
fuzz-check:
	bash .ci/fuzz.sh
.PHONY: sanitize-check fuzz-check
