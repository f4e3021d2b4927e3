# Runs at install time (cmake --install, cpack), after cmake/Install.cmake set NETMODELS_DEPLOY,
# NETMODELS_STAGE and NETMODELS_BINDIR. CMAKE_INSTALL_PREFIX is the prefix of this install;
# file(INSTALL) adds DESTDIR and records the files in install_manifest.txt.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(_etc /etc)
else()
  set(_etc "${CMAKE_INSTALL_PREFIX}/etc")
endif()
set(NETMODELS_BIN "${CMAKE_INSTALL_PREFIX}/${NETMODELS_BINDIR}/netmodels")
set(NETMODELS_CONF_DIR "${_etc}/netmodels")
foreach(unit netmodels.service netmodels@.service)
  configure_file("${NETMODELS_DEPLOY}/systemd/${unit}.in" "${NETMODELS_STAGE}/${unit}" @ONLY)
endforeach()
file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system" TYPE FILE
  FILES "${NETMODELS_STAGE}/netmodels.service" "${NETMODELS_STAGE}/netmodels@.service")
file(INSTALL DESTINATION "${_etc}/netmodels" TYPE FILE FILES "${NETMODELS_DEPLOY}/netmodels.toml")
file(INSTALL DESTINATION "${_etc}/fail2ban/filter.d" TYPE FILE
  FILES "${NETMODELS_DEPLOY}/fail2ban/filter.d/netmodels.conf")
file(INSTALL DESTINATION "${_etc}/fail2ban/jail.d" TYPE FILE
  FILES "${NETMODELS_DEPLOY}/fail2ban/jail.d/netmodels.conf")
file(INSTALL DESTINATION "${_etc}/logrotate.d" TYPE FILE
  FILES "${NETMODELS_DEPLOY}/logrotate/netmodels")
