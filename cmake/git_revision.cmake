# Runs at build time: writes version.h with the current git revision, touching the file
# only when the text changes (so an unchanged tree does not rebuild).
execute_process(
  COMMAND git -C "${SOURCE_DIR}" describe --always --dirty --abbrev=12
  OUTPUT_VARIABLE EDGEBENCH_GIT_REVISION
  OUTPUT_STRIP_TRAILING_WHITESPACE
  ERROR_QUIET)
if(NOT EDGEBENCH_GIT_REVISION)
  set(EDGEBENCH_GIT_REVISION "unknown")
endif()
configure_file("${SOURCE_DIR}/cmake/version.h.in" "${OUTPUT}.tmp" @ONLY)
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUTPUT}.tmp" "${OUTPUT}")
