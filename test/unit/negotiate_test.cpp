// Accept and Accept-Encoding as Prometheus, curl and browsers send them.
#include "http/negotiate.h"
#include "unit.h"

TEST(negotiate_gzip) {
  CHECK(http::accepts_gzip("gzip"));
  CHECK(http::accepts_gzip("deflate, gzip;q=0.5"));
  CHECK(http::accepts_gzip("x-gzip"));
  CHECK(http::accepts_gzip("GZIP"));
  CHECK(http::accepts_gzip("*"));
  CHECK(http::accepts_gzip("gzip, deflate, br"));
  CHECK(!http::accepts_gzip(""));
  CHECK(!http::accepts_gzip("identity"));
  CHECK(!http::accepts_gzip("gzip;q=0"));
  CHECK(!http::accepts_gzip("gzip;q=0.000"));
  CHECK(!http::accepts_gzip("*, gzip;q=0"));
  CHECK(!http::accepts_gzip("*;q=0"));
  CHECK(!http::accepts_gzip("gzipx"));
  CHECK(!http::accepts_gzip("gzip;q=abc"));
}

TEST(negotiate_openmetrics) {
  // Prometheus 2.42's scrape Accept header.
  CHECK(http::prefers_openmetrics(
      "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
      "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
  CHECK(http::prefers_openmetrics("application/openmetrics-text; version=1.0.0; charset=utf-8"));
  CHECK(http::prefers_openmetrics("application/openmetrics-text;version=0.0.1"));
  CHECK(http::prefers_openmetrics("text/plain;q=0.5, application/openmetrics-text"));
  CHECK(!http::prefers_openmetrics(""));
  CHECK(!http::prefers_openmetrics("*/*"));  // curl
  CHECK(!http::prefers_openmetrics("text/plain;version=0.0.4"));
  CHECK(!http::prefers_openmetrics("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"));
  CHECK(!http::prefers_openmetrics("application/openmetrics-text;version=2.0.0"));
  CHECK(!http::prefers_openmetrics("application/openmetrics-text;q=0"));
  CHECK(!http::prefers_openmetrics("text/plain, application/openmetrics-text"));  // a tie: the first
  CHECK(!http::prefers_openmetrics("application/openmetrics-text;q=0.4, text/plain;q=0.5"));
  CHECK(!http::prefers_openmetrics(",,,;;;==="));
}
