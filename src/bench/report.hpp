#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace nm::bench {

// One run's results, in the order they were added: a table for people, JSON and CSV for scripts.
class Report {
 public:
  void add(std::string name, double value, std::string unit, int precision = 1);
  void add_text(std::string name, std::string text);

  void print_table(std::ostream& out) const;
  // One flat object; numbers as numbers, so that scripts need no unit parsing.
  void print_json(std::ostream& out) const;
  // A header line then one row.
  void print_csv(std::ostream& out) const;

  // The value of a numeric field, or `fallback`.
  double value(const std::string& name, double fallback = 0) const;

 private:
  struct Field {
    std::string name;
    std::string unit;
    std::string text;
    double value = 0;
    int precision = 1;
    bool numeric = true;
  };
  std::string formatted(const Field& field) const;
  std::vector<Field> fields_;
};

}  // namespace nm::bench
