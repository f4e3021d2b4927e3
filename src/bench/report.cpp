#include "bench/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace nm::bench {
namespace {

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string csv_cell(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

void Report::add(std::string name, double value, std::string unit, int precision) {
  fields_.push_back(Field{std::move(name), std::move(unit), {}, value, precision, true});
}

void Report::add_text(std::string name, std::string text) {
  fields_.push_back(Field{std::move(name), {}, std::move(text), 0, 0, false});
}

double Report::value(const std::string& name, double fallback) const {
  for (const auto& f : fields_) {
    if (f.numeric && f.name == name) return f.value;
  }
  return fallback;
}

std::string Report::formatted(const Field& field) const {
  if (!field.numeric) return field.text;
  if (!std::isfinite(field.value)) return "nan";
  return fmt::format("{:.{}f}", field.value, field.precision);
}

void Report::print_table(std::ostream& out) const {
  size_t name_width = 6, value_width = 5;
  for (const auto& f : fields_) {
    name_width = std::max(name_width, f.name.size());
    value_width = std::max(value_width, formatted(f).size());
  }
  out << fmt::format("{:<{}}  {:>{}}  {}\n", "metric", name_width, "value", value_width, "unit");
  out << fmt::format("{:-<{}}  {:->{}}  {}\n", "", name_width, "", value_width, "----");
  for (const auto& f : fields_) {
    out << fmt::format("{:<{}}  {:>{}}  {}\n", f.name, name_width, formatted(f), value_width,
                       f.unit);
  }
}

void Report::print_json(std::ostream& out) const {
  out << "{";
  for (size_t i = 0; i < fields_.size(); ++i) {
    const auto& f = fields_[i];
    out << (i ? ", " : "") << json_string(f.name) << ": ";
    if (!f.numeric) {
      out << json_string(f.text);
    } else if (!std::isfinite(f.value)) {
      out << "null";  // JSON has no NaN
    } else {
      out << fmt::format("{:.{}f}", f.value, std::max(f.precision, 0));
    }
  }
  out << "}\n";
}

void Report::print_csv(std::ostream& out) const {
  for (size_t i = 0; i < fields_.size(); ++i) out << (i ? "," : "") << csv_cell(fields_[i].name);
  out << "\n";
  for (size_t i = 0; i < fields_.size(); ++i) {
    out << (i ? "," : "") << csv_cell(formatted(fields_[i]));
  }
  out << "\n";
}

}  // namespace nm::bench
