#include "server/data_proxy_header.hpp"

#include <spdlog/spdlog.h>

#include "session/metrics.hpp"

namespace nm {

ProxyHeaderParser::Accept accepted_proxy_versions(ServerOptions::ProxyProtocol mode) {
  using Accept = ProxyHeaderParser::Accept;
  switch (mode) {
    case ServerOptions::ProxyProtocol::kV1:
      return Accept::kV1;
    case ServerOptions::ProxyProtocol::kV2:
      return Accept::kV2;
    case ServerOptions::ProxyProtocol::kOff:
    case ServerOptions::ProxyProtocol::kAny:
      break;
  }
  return Accept::kAny;
}

DataProxyHeader::DataProxyHeader(const ServerOptions& options, const Address& client, uint64_t id)
    : accept_(accepted_proxy_versions(options.proxy_protocol)),
      trusted_(options.proxy_trusted),
      timeout_(options.proxy_timeout),
      client_(client),
      id_(id),
      parser_(accept_) {}

bool DataProxyHeader::admit(const Address& from, Clock::time_point now) {
  from_ = from;
  named_ = Address();
  rest_.clear();
  parser_ = ProxyHeaderParser(accept_);
  state_ = State::kNeedMore;
  reason_ = "";
  until_ = now + timeout_;
  if (any_contains(trusted_, from)) return true;
  refuse("untrusted");
  return false;
}

DataProxyHeader::State DataProxyHeader::feed(std::string_view bytes) {
  if (state_ != State::kNeedMore) return state_;
  auto parsed = parser_.feed(bytes);
  if (parsed == ProxyHeaderParser::State::kNeedMore) return state_;
  if (parsed == ProxyHeaderParser::State::kFailed) return refuse(parser_.error());
  const auto& header = parser_.header();
  if (header.local) return refuse("local");
  named_ = header.source;
  if (!header.source.same_host(client_)) return refuse("other-client");
  rest_ = std::string(parser_.rest());
  state_ = State::kAccepted;
  spdlog::debug("event=data-proxy id={} from={} client={} version={}", id_, from_.to_string(),
                named_.to_string(), header.version);
  return state_;
}

DataProxyHeader::State DataProxyHeader::ended() {
  return state_ == State::kNeedMore ? refuse("eof") : state_;
}

DataProxyHeader::State DataProxyHeader::expire() {
  return state_ == State::kNeedMore ? refuse("timeout") : state_;
}

DataProxyHeader::State DataProxyHeader::refuse(const char* reason) {
  state_ = State::kRefused;
  reason_ = reason;
  count(Metric::kDataRefusedProxyHeader);
  rest_.clear();
  // The session waits on for the right connection: a refusal is a warning, as data_peer_allowed's.
  if (named_.family() != AF_UNSPEC) {
    spdlog::warn("event=data-refused id={} from={} client={} named={} reason={}", id_,
                 from_.to_string(), client_.to_string(), named_.to_string(), reason);
  } else {
    spdlog::warn("event=data-refused id={} from={} client={} reason={}", id_, from_.to_string(),
                 client_.to_string(), reason);
  }
  return state_;
}

}  // namespace nm
