# Helpers the modules' CMakeLists.txt use to declare their tests.

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
