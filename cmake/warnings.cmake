# aw_warnings: the warning set every awnode target builds with, as an INTERFACE library
# that aw_core passes on (everything links aw_core). AW_WERROR makes the warnings
# errors: on in the test build (scripts/test.sh) and CI, off by default so that a newer
# compiler's new warnings do not break a packager's build.
option(AW_WERROR "Treat compiler warnings as errors" OFF)
add_library(aw_warnings INTERFACE)
target_compile_options(aw_warnings INTERFACE
  -Wall -Wextra -Wshadow -Wmissing-prototypes -Wformat=2 -Wno-unused-parameter)
target_compile_definitions(aw_warnings INTERFACE _GNU_SOURCE)
if(AW_WERROR)
  target_compile_options(aw_warnings INTERFACE -Werror)
endif()
