# Helpers the modules' CMakeLists.txt use to declare their library and tests.

# aw_module_library(NAME DEPS...): the calling module's static library, built from every
# src/*.c (one file per concept: a file belongs to the module by being in src/), with
# include/ public and src/ private, linked PUBLIC with DEPS.
function(aw_module_library name)
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/*.c)
  add_library(${name} STATIC ${sources})
  target_include_directories(${name} PUBLIC include PRIVATE src)
  target_link_libraries(${name} PUBLIC ${ARGN})
endfunction()

# aw_unit_test(MODULE NAME LIB [SOURCES...]): the cmocka test tests/unit/MODULE/NAME.c
# (plus SOURCES, plus the shared helpers of tests/unit/common/) linked with LIB,
# registered with ctest. The calling module's private src/ headers are in reach: unit
# tests may call internal functions.
function(aw_unit_test module name lib)
  if(AW_BUILD_TESTS)
    add_executable(${name} ${CMAKE_SOURCE_DIR}/tests/unit/${module}/${name}.c
      ${CMAKE_SOURCE_DIR}/tests/unit/common/tmpdir.c ${ARGN})
    target_include_directories(${name} PRIVATE src ${CMAKE_SOURCE_DIR}/tests/unit/common)
    target_link_libraries(${name} ${lib} PkgConfig::CMOCKA)
    add_test(NAME ${name} COMMAND ${name})
  endif()
endfunction()

# aw_fuzz_target(NAME LIB): tests/fuzz/NAME.c against LIB, with the calling module's
# private src/ headers in reach (fuzz targets call internal parsers).
function(aw_fuzz_target name lib)
  if(AW_FUZZ)
    add_executable(${name} ${CMAKE_SOURCE_DIR}/tests/fuzz/${name}.c)
    target_include_directories(${name} PRIVATE src)
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer,address)
    target_link_libraries(${name} ${lib})
  endif()
endfunction()
