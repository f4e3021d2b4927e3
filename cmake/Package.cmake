# cpack -G DEB -> netmodels_VERSION_amd64.deb.
# Why CPack and not debian/: the package is built from the same install() rules as
# `cmake --install`, so the two cannot list different files, and a developer or CI makes it with
# the tools the build already has (no debhelper, no source package, no changelog to keep in step
# with project(VERSION)). A distribution upload would want debian/; this package is for our own
# machines. Runtime dependencies come from dpkg-shlibdeps over the binary.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME netmodels)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "netmodels maintainers <netmodels@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "concurrent network server models, an FTP server, client and benchmark")
# Whatever prefix the build folder was configured for: cmake/InstallTime.cmake writes the
# units and /etc for the /usr of the package when cpack installs.
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "fail2ban, logrotate")
set(CPACK_STRIP_FILES ON)
# /etc files are conffiles: kept on remove (and local edits kept on upgrade), gone on purge.
# (The paths of the /usr prefix, whose configuration lives in /etc.)
set(_nm_conffiles
  /etc/netmodels/netmodels.toml
  /etc/fail2ban/filter.d/netmodels.conf
  /etc/fail2ban/jail.d/netmodels.conf
  /etc/logrotate.d/netmodels)
list(JOIN _nm_conffiles "\n" _nm_conffiles_text)
file(WRITE ${PROJECT_BINARY_DIR}/deb/conffiles "${_nm_conffiles_text}\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_BINARY_DIR}/deb/conffiles
  ${PROJECT_SOURCE_DIR}/deploy/debian/postinst
  ${PROJECT_SOURCE_DIR}/deploy/debian/prerm
  ${PROJECT_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
