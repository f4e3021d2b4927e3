// The counters and their Prometheus text, and the scrape endpoint's HTTP answers.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/metrics_endpoint.hpp"
#include "session/metrics.hpp"

namespace nm {
namespace {

BuildInfo build() {
  return {"1.2.3", "epoll", "ftp", "host \"a\":21"};
}

TEST(Metrics, CountsShowInTheTextFormat) {
  auto before = metric_value(Metric::kLoginsFailed);
  count(Metric::kLoginsFailed);
  count(Metric::kLoginsFailed, 2);
  EXPECT_EQ(metric_value(Metric::kLoginsFailed), before + 3);
  auto stor = transfer_count(TransferVerb::kStor, TransferOutcome::kAborted);
  count_transfer("STOR", TransferOutcome::kAborted);
  count_transfer("XYZ", TransferOutcome::kOk);  // not a transfer verb: ignored
  EXPECT_EQ(transfer_count(TransferVerb::kStor, TransferOutcome::kAborted), stor + 1);

  auto text = render_metrics(build());
  EXPECT_NE(text.find("# TYPE netmodels_logins_total counter\n"), std::string::npos);
  EXPECT_NE(
      text.find("netmodels_logins_total{result=\"failed\"} " + std::to_string(before + 3) + "\n"),
      std::string::npos);
  EXPECT_NE(text.find("netmodels_transfers_total{command=\"STOR\",result=\"aborted\"} " +
                      std::to_string(stor + 1) + "\n"),
            std::string::npos);
  // Label values are escaped as the format says.
  EXPECT_NE(text.find("instance=\"host \\\"a\\\":21\""), std::string::npos);
  // Every line is a comment or "name{labels} value", and every cell has its sample: each
  // Metric, each transfer command and result, and build_info.
  size_t samples = 0;
  size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    ASSERT_NE(end, std::string::npos);
    auto line = text.substr(start, end - start);
    EXPECT_TRUE(line.rfind("# HELP netmodels_", 0) == 0 ||
                line.rfind("# TYPE netmodels_", 0) == 0 || line.rfind("netmodels_", 0) == 0)
        << line;
    if (line.rfind("netmodels_", 0) == 0) ++samples;
    start = end + 1;
  }
  EXPECT_EQ(samples, static_cast<size_t>(Metric::kCount) +
                         static_cast<size_t>(TransferVerb::kCount) *
                             static_cast<size_t>(TransferOutcome::kCount) +
                         1);
}

TEST(Metrics, GaugesGoDownAgain) {
  auto open = metric_value(Metric::kPassiveListenersOpen);
  count(Metric::kPassiveListenersOpen);
  count(Metric::kPassiveListenersOpen, -1);
  EXPECT_EQ(metric_value(Metric::kPassiveListenersOpen), open);
}

TEST(Metrics, SharedCountersKeepTheirValuesAndReachForkedChildren) {
  count(Metric::kBytesSent, 5);
  auto before = metric_value(Metric::kBytesSent);
  enable_shared_metrics();
  EXPECT_EQ(metric_value(Metric::kBytesSent), before);
  pid_t child = ::fork();
  if (child == 0) {
    count(Metric::kBytesSent, 1000);
    ::_exit(0);
  }
  ASSERT_GT(child, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_EQ(metric_value(Metric::kBytesSent), before + 1000);
}

TEST(MetricsEndpoint, AnswersGetMetricsAndRefusesTheRest) {
  auto ok = metrics_response("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", build());
  EXPECT_EQ(ok.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_NE(ok.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  auto body = ok.substr(ok.find("\r\n\r\n") + 4);
  EXPECT_NE(ok.find("Content-Length: " + std::to_string(body.size()) + "\r\n"), std::string::npos);
  EXPECT_NE(body.find("netmodels_build_info{version=\"1.2.3\""), std::string::npos);
  auto head = metrics_response("HEAD /metrics HTTP/1.0\r\n\r\n", build());
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
  EXPECT_EQ(metrics_response("GET /metrics?x=1 HTTP/1.1\r\n\r\n", build()).rfind("HTTP/1.1 200", 0),
            0u);
  EXPECT_EQ(metrics_response("GET / HTTP/1.1\r\n\r\n", build()).rfind("HTTP/1.1 404", 0), 0u);
  EXPECT_EQ(metrics_response("POST /metrics HTTP/1.1\r\n\r\n", build()).rfind("HTTP/1.1 405", 0),
            0u);
  EXPECT_EQ(metrics_response("USER anonymous\r\n\r\n", build()).rfind("HTTP/1.1 400", 0), 0u);
}

}  // namespace
}  // namespace nm
