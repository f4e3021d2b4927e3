# cmake --install: the binary, the man pages, the example configurations (netmodels, and HAProxy
# for a farm), the systemd units, the fail2ban filter and jail, and the logrotate rules.
# Everything follows the prefix given at install time (`cmake --install build --prefix DIR`;
# /usr/local by default; the .deb uses /usr, whose configuration goes to /etc as Debian's does).
include(GNUInstallDirs)

install(TARGETS netmodels RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/deploy/systemd/netmodels.sysusers
  DESTINATION lib/sysusers.d RENAME netmodels.conf)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/netmodels.toml DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
# The farm recipe (HAProxy in front of several instances), as scripts/farm-test.sh tests it.
install(FILES ${PROJECT_SOURCE_DIR}/deploy/haproxy/haproxy.cfg
  ${PROJECT_SOURCE_DIR}/deploy/haproxy/README.md ${PROJECT_SOURCE_DIR}/deploy/haproxy/haproxy-cmd.py
  DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/haproxy)

# The units name the installed binary and configuration, so they are written at install time,
# when the prefix is known (cmake/InstallTime.cmake), as are the files under etc/.
install(CODE "
  set(NETMODELS_DEPLOY \"${PROJECT_SOURCE_DIR}/deploy\")
  set(NETMODELS_STAGE \"${PROJECT_BINARY_DIR}/deploy/installed\")
  set(NETMODELS_BINDIR \"${CMAKE_INSTALL_BINDIR}\")")
install(SCRIPT ${CMAKE_CURRENT_LIST_DIR}/InstallTime.cmake)

# The units as the default prefix would install them, for the tests (systemd-analyze verify).
set(NETMODELS_BIN ${CMAKE_INSTALL_FULL_BINDIR}/netmodels)
set(NETMODELS_CONF_DIR ${CMAKE_INSTALL_FULL_SYSCONFDIR}/netmodels)
foreach(unit netmodels.service netmodels@.service)
  configure_file(${PROJECT_SOURCE_DIR}/deploy/systemd/${unit}.in
    ${PROJECT_BINARY_DIR}/deploy/systemd/${unit} @ONLY)
endforeach()

include(${CMAKE_CURRENT_LIST_DIR}/Man.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/Package.cmake)
