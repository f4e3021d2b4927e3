# netmodels --version: the project version and the commit it was configured from
# ("unknown" outside a git checkout, e.g. from a release tarball).
set(NETMODELS_GIT_COMMIT unknown)
find_package(Git QUIET)
if(GIT_FOUND)
  execute_process(COMMAND ${GIT_EXECUTABLE} describe --always --dirty --abbrev=12
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    OUTPUT_VARIABLE _nm_describe OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE _nm_rc ERROR_QUIET)
  if(_nm_rc EQUAL 0 AND _nm_describe)
    set(NETMODELS_GIT_COMMIT ${_nm_describe})
    # Configure again when HEAD moves, so the binary never names a stale commit for long.
    execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse --absolute-git-dir
      WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
      OUTPUT_VARIABLE _nm_git_dir OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(EXISTS "${_nm_git_dir}/HEAD")
      set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_nm_git_dir}/HEAD")
    endif()
  endif()
endif()
message(STATUS "netmodels ${PROJECT_VERSION} (${NETMODELS_GIT_COMMIT})")
# Only main.cpp prints them: a new commit recompiles one file.
set_property(SOURCE ${PROJECT_SOURCE_DIR}/src/app/main.cpp APPEND PROPERTY COMPILE_DEFINITIONS
  NETMODELS_VERSION="${PROJECT_VERSION}" NETMODELS_GIT_COMMIT="${NETMODELS_GIT_COMMIT}")
# serve's build_info metric names the version (not the commit: that would recompile it too).
set_property(SOURCE ${PROJECT_SOURCE_DIR}/src/app/serve_command.cpp APPEND PROPERTY
  COMPILE_DEFINITIONS NETMODELS_VERSION="${PROJECT_VERSION}")
