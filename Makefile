# pg_exporter: PostgreSQL extension whose background worker serves Prometheus metrics.
# Build with PGXS: make && make install && make installcheck

MODULE_big = pg_exporter
EXTENSION  = pg_exporter
DATA       = pg_exporter--1.0.sql pg_exporter--1.0--1.1.sql
PGFILEDESC = "pg_exporter - Prometheus exporter inside PostgreSQL"

SRCS := $(sort $(wildcard src/*.cpp src/*/*.cpp))
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
# gcc -shared links the module: libstdc++ is not added for us.
SHLIB_LINK += $(PROM_LIBS) $(CRYPTO_LIBS) $(ENDPOINT_LIBS) -lstdc++

EXTRA_CLEAN = $(SRCS:.cpp=.d) tmp_check_regress test/unit/*.bin

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
UNIT_LIB_SRCS := src/pg/result.cpp $(sort $(wildcard src/http/*.cpp src/procfs/*.cpp src/metrics/*.cpp src/spool/*.cpp src/tls/*.cpp src/datadir/*.cpp src/webconfig/*.cpp)) \
                 $(filter-out src/collectors/context.cpp,$(sort $(wildcard src/collectors/*.cpp)))
test/unit/all_tests.bin: $(UNIT_SRCS) $(UNIT_LIB_SRCS) $(wildcard test/unit/*.h) $(wildcard src/*/*.h src/collectors/*.def)
	$(CXX) -std=c++17 -Wall -Wextra -O1 -g -fsanitize=address,undefined -Isrc -Itest/unit $(PROM_CFLAGS) \
	    $(CRYPTO_CFLAGS) $(ENDPOINT_CFLAGS) -o $@ $(UNIT_SRCS) $(UNIT_LIB_SRCS) $(PROM_LIBS) $(CRYPTO_LIBS) \
	    $(ENDPOINT_LIBS)

unitcheck: test/unit/all_tests.bin
	./test/unit/all_tests.bin

installcheck: unitcheck
.PHONY: unitcheck
