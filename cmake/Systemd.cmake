# libsystemd for sd_notify (Type=notify readiness) in src/app/notify.cpp: the app layer's only.
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
target_link_libraries(nm_app PUBLIC PkgConfig::SYSTEMD)
