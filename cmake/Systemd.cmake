# libsystemd for sd_notify (Type=notify readiness) in src/app/notify.cpp. Linked through
# netmodels_core until the per-folder split; then it belongs to the app library only.
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
target_link_libraries(netmodels_core PUBLIC PkgConfig::SYSTEMD)
