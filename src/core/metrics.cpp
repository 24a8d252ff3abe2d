#include "core/metrics.h"

#include <sstream>

namespace extdata {

namespace {
std::string escape_label_value(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}
}  // namespace

std::string render_labels(const Labels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ',';
    out += labels[i].first + "=\"" + escape_label_value(labels[i].second) + "\"";
  }
  return out + "}";
}

Metrics& Metrics::global() {
  static Metrics metrics;
  return metrics;
}

Counter& Metrics::counter(const std::string& name, const Labels& labels, const std::string& help) {
  std::lock_guard lock(mu_);
  auto& family = families_[name];
  if (!help.empty()) family.help = help;
  auto& slot = family.counters[render_labels(labels)];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& Metrics::gauge(const std::string& name, const Labels& labels, const std::string& help) {
  std::lock_guard lock(mu_);
  auto& family = families_[name];
  family.is_gauge = true;
  if (!help.empty()) family.help = help;
  auto& slot = family.gauges[render_labels(labels)];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

void Metrics::drop_gauges(const std::string& name,
                          const std::pair<std::string, std::string>& label) {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return;
  const std::string needle = label.first + "=\"" + escape_label_value(label.second) + "\"";
  for (auto g = it->second.gauges.begin(); g != it->second.gauges.end();) {
    if (g->first.find(needle) != std::string::npos)
      g = it->second.gauges.erase(g);
    else
      ++g;
  }
}

long long Metrics::counter_value(const std::string& name, const Labels& labels) const {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return 0;
  auto c = it->second.counters.find(render_labels(labels));
  return c == it->second.counters.end() ? 0 : c->second->value();
}

std::string Metrics::prometheus_text() const {
  std::lock_guard lock(mu_);
  std::ostringstream out;
  for (const auto& [name, family] : families_) {
    if (!family.help.empty()) out << "# HELP " << name << ' ' << family.help << '\n';
    out << "# TYPE " << name << (family.is_gauge ? " gauge\n" : " counter\n");
    for (const auto& [labels, c] : family.counters)
      out << name << labels << ' ' << c->value() << '\n';
    for (const auto& [labels, g] : family.gauges)
      out << name << labels << ' ' << g->value() << '\n';
  }
  return out.str();
}

}  // namespace extdata
