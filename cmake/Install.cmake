# cmake --install: the binary, the man pages, the example configuration, the systemd units, the
# fail2ban filter and jail, and the logrotate rules. Paths follow CMAKE_INSTALL_PREFIX
# (/usr/local by default; the .deb uses /usr, whose configuration goes to /etc).
include(GNUInstallDirs)

set(NETMODELS_BIN ${CMAKE_INSTALL_FULL_BINDIR}/netmodels)
set(NETMODELS_CONF_DIR ${CMAKE_INSTALL_FULL_SYSCONFDIR}/netmodels)
set(NETMODELS_UNIT_DIR ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)
set(_nm_deploy ${PROJECT_SOURCE_DIR}/deploy)
set(_nm_gen ${PROJECT_BINARY_DIR}/deploy)

install(TARGETS netmodels RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# The units name the installed binary and configuration.
foreach(unit netmodels.service netmodels@.service)
  configure_file(${_nm_deploy}/systemd/${unit}.in ${_nm_gen}/systemd/${unit} @ONLY)
  install(FILES ${_nm_gen}/systemd/${unit} DESTINATION ${NETMODELS_UNIT_DIR})
endforeach()
install(FILES ${_nm_deploy}/systemd/netmodels.sysusers
  DESTINATION ${CMAKE_INSTALL_PREFIX}/lib/sysusers.d RENAME netmodels.conf)

install(FILES ${_nm_deploy}/netmodels.toml DESTINATION ${NETMODELS_CONF_DIR})
install(FILES ${_nm_deploy}/netmodels.toml DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(FILES ${_nm_deploy}/fail2ban/filter.d/netmodels.conf
  DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/fail2ban/filter.d)
install(FILES ${_nm_deploy}/fail2ban/jail.d/netmodels.conf
  DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/fail2ban/jail.d)
install(FILES ${_nm_deploy}/logrotate/netmodels
  DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/logrotate.d)

include(${CMAKE_CURRENT_LIST_DIR}/Man.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/Package.cmake)
