#include <algorithm>

#include "models/factories.hpp"

namespace nm {

const std::vector<ModelEntry>& all_models() {
  static const std::vector<ModelEntry> models = [] {
    std::vector<std::unique_ptr<Model> (*)()> factories = {
        make_iterative_model, make_fork_model,     make_threads_model,  make_select_model,
        make_poll_model,      make_epoll_model,    make_epoll_et_model, make_thread_pool_model,
        make_prefork_model,   make_reactors_model, make_uring_model,
    };
    std::vector<ModelEntry> entries;
    for (auto factory : factories) entries.push_back({factory()->traits(), factory});
    return entries;
  }();
  return models;
}

std::unique_ptr<Model> make_model(std::string_view name) {
  const auto& models = all_models();
  auto it = std::find_if(models.begin(), models.end(),
                         [&](const ModelEntry& e) { return e.traits.name == name; });
  return it == models.end() ? nullptr : it->make();
}

}  // namespace nm
