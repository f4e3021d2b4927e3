#include "session/metrics.hpp"

#include <sys/mman.h>

#include <array>
#include <cstring>
#include <new>
#include <vector>

#include "net/logfmt.hpp"

namespace nm {
namespace {

constexpr size_t kVerbs = static_cast<size_t>(TransferVerb::kCount);
constexpr size_t kOutcomes = static_cast<size_t>(TransferOutcome::kCount);

struct Cells {
  std::array<std::atomic<uint64_t>, static_cast<size_t>(Metric::kCount)> metrics{};
  std::array<std::array<std::atomic<uint64_t>, kOutcomes>, kVerbs> transfers{};
};
// Shared memory holds plain atomics: that they need no process-local state is what lets
// processes share them.
static_assert(std::atomic<uint64_t>::is_always_lock_free);

Cells g_local;
std::atomic<Cells*> g_cells{&g_local};

Cells& cells() {
  return *g_cells.load(std::memory_order_relaxed);
}

constexpr std::array<std::string_view, kVerbs> kVerbNames{"RETR", "STOR", "APPE", "STOU",
                                                          "LIST", "NLST", "MLSD"};
constexpr std::array<std::string_view, kOutcomes> kOutcomeNames{"ok", "aborted", "failed"};

// Every metric of the Metric table, as the exposition names it: one family per name, one sample
// per cell (the labels tell the cells of a family apart).
struct Sample {
  std::string_view labels;
  Metric metric;
};
struct Family {
  std::string_view name;
  std::string_view type;
  std::string_view help;
  std::vector<Sample> samples;
};
const std::vector<Family> kFamilies = {
    {"netmodels_connections_accepted_total",
     "counter",
     "Connections admitted past --max-clients and --max-per-ip.",
     {{"", Metric::kConnectionsAccepted}}},
    {"netmodels_connections_active",
     "gauge",
     "Connections being served now.",
     {{"", Metric::kConnectionsActive}}},
    {"netmodels_connections_refused_total",
     "counter",
     "Connections refused, by reason (--max-clients, --max-per-ip, a full queue, a bad PROXY "
     "header).",
     {{"reason=\"max-clients\"", Metric::kRefusedMaxClients},
      {"reason=\"max-per-ip\"", Metric::kRefusedMaxPerIp},
      {"reason=\"queue-full\"", Metric::kRefusedQueueFull},
      {"reason=\"proxy-header\"", Metric::kRefusedProxyHeader}}},
    {"netmodels_logins_total",
     "counter",
     "FTP logins, by result.",
     {{"result=\"ok\"", Metric::kLoginsOk}, {"result=\"failed\"", Metric::kLoginsFailed}}},
    {"netmodels_transfer_bytes_total",
     "counter",
     "Bytes moved on data connections, by direction.",
     {{"direction=\"sent\"", Metric::kBytesSent},
      {"direction=\"received\"", Metric::kBytesReceived}}},
    {"netmodels_passive_listeners_open",
     "gauge",
     "Passive data listeners open now.",
     {{"", Metric::kPassiveListenersOpen}}},
    {"netmodels_tls_handshakes_total",
     "counter",
     "TLS handshakes, by connection (control, data) and result.",
     {{"connection=\"control\",result=\"ok\"", Metric::kTlsHandshakesControlOk},
      {"connection=\"control\",result=\"failed\"", Metric::kTlsHandshakesControlFailed},
      {"connection=\"data\",result=\"ok\"", Metric::kTlsHandshakesDataOk},
      {"connection=\"data\",result=\"resumed\"", Metric::kTlsHandshakesDataResumed},
      {"connection=\"data\",result=\"failed\"", Metric::kTlsHandshakesDataFailed}}},
    {"netmodels_data_connections_refused_total",
     "counter",
     "Data connections refused, by reason (from a host other than the client's, RFC 2577; a "
     "missing, untrusted or mismatched PROXY header).",
     {{"reason=\"foreign-peer\"", Metric::kDataRefusedForeignPeer},
      {"reason=\"proxy-header\"", Metric::kDataRefusedProxyHeader}}},
};

std::string label_value(std::string_view text) {
  // The format's escapes: backslash, double quote and line feed.
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

class Writer {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  void sample(std::string_view name, std::string_view labels, uint64_t value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      out_ += labels;
      out_ += '}';
    }
    out_ += ' ';
    out_ += std::to_string(value);
    out_ += '\n';
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

void count(Metric metric, int64_t delta) {
  cells().metrics[static_cast<size_t>(metric)].fetch_add(static_cast<uint64_t>(delta),
                                                         std::memory_order_relaxed);
}

void count_transfer(std::string_view verb, TransferOutcome outcome) {
  for (size_t v = 0; v < kVerbs; ++v) {
    if (kVerbNames[v] == verb) {
      cells().transfers[v][static_cast<size_t>(outcome)].fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
}

uint64_t metric_value(Metric metric) {
  return cells().metrics[static_cast<size_t>(metric)].load(std::memory_order_relaxed);
}

uint64_t transfer_count(TransferVerb verb, TransferOutcome outcome) {
  return cells().transfers[static_cast<size_t>(verb)][static_cast<size_t>(outcome)].load(
      std::memory_order_relaxed);
}

void enable_shared_metrics() {
  if (g_cells.load() != &g_local) return;
  void* block =
      ::mmap(nullptr, sizeof(Cells), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (block == MAP_FAILED) return;  // counts stay per process: fork's children go uncounted
  auto* shared = new (block) Cells();
  for (size_t i = 0; i < g_local.metrics.size(); ++i) shared->metrics[i].store(g_local.metrics[i]);
  for (size_t v = 0; v < kVerbs; ++v) {
    for (size_t o = 0; o < kOutcomes; ++o) shared->transfers[v][o].store(g_local.transfers[v][o]);
  }
  g_cells.store(shared);  // never unmapped: children and threads may count until they exit
}

std::string render_metrics(const BuildInfo& build) {
  Writer w;
  w.family("netmodels_build_info", "gauge", "Version, model, service and instance of this server.");
  w.sample("netmodels_build_info",
           "version=\"" + label_value(build.version) + "\",model=\"" + label_value(build.model) +
               "\",service=\"" + label_value(build.service) + "\",instance=\"" +
               label_value(build.instance) + "\"",
           1);
  for (const Family& family : kFamilies) {
    w.family(family.name, family.type, family.help);
    for (const Sample& sample : family.samples) {
      w.sample(family.name, sample.labels, metric_value(sample.metric));
    }
  }
  w.family("netmodels_transfers_total", "counter", "FTP transfers, by command and result.");
  for (size_t v = 0; v < kVerbs; ++v) {
    for (size_t o = 0; o < kOutcomes; ++o) {
      std::string labels = "command=\"" + std::string(kVerbNames[v]) + "\",result=\"" +
                           std::string(kOutcomeNames[o]) + "\"";
      w.sample("netmodels_transfers_total", labels,
               transfer_count(static_cast<TransferVerb>(v), static_cast<TransferOutcome>(o)));
    }
  }
  return w.take();
}

}  // namespace nm
