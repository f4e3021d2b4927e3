#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace nm::ftp {

// Temporary upload names: kUploadPrefix (listing.hpp), the instance id, '-', then a random tail
// of kUploadRandomChars letters and digits: ".nm-upload-web1-2121-x7Qa9z". Several instances
// sharing one root (a farm behind a balancer) can then tell whose leftovers are whose, and
// `netmodels sweep --instance` removes one instance's without touching another's.
inline constexpr size_t kUploadRandomChars = 6;

// True when `id` may name an instance: 1 to 64 characters of [A-Za-z0-9._-].
bool valid_instance_id(std::string_view id);
// `text` with every character outside [A-Za-z0-9._-] replaced by '-', cut to 64 characters.
std::string sanitize_instance_id(std::string_view text);
// The default --instance-id: this host's name and the listening port ("web1-2121").
std::string default_instance_id(unsigned port);

std::string upload_temp_name(std::string_view instance, std::string_view random);
// The instance a temporary upload name carries: "" for the names of versions before instances
// (".nm-upload-x7Qa9z"); nullopt when `name` is no temporary upload name at all.
std::optional<std::string_view> upload_temp_instance(std::string_view name);

}  // namespace nm::ftp
