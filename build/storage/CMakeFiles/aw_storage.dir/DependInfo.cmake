
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/storage/src/buf.c" "storage/CMakeFiles/aw_storage.dir/src/buf.c.o" "gcc" "storage/CMakeFiles/aw_storage.dir/src/buf.c.o.d"
  "/work/main/storage/src/error.c" "storage/CMakeFiles/aw_storage.dir/src/error.c.o" "gcc" "storage/CMakeFiles/aw_storage.dir/src/error.c.o.d"
  "/work/main/storage/src/json.c" "storage/CMakeFiles/aw_storage.dir/src/json.c.o" "gcc" "storage/CMakeFiles/aw_storage.dir/src/json.c.o.d"
  "/work/main/storage/src/reader.c" "storage/CMakeFiles/aw_storage.dir/src/reader.c.o" "gcc" "storage/CMakeFiles/aw_storage.dir/src/reader.c.o.d"
  "/work/main/storage/src/schema.c" "storage/CMakeFiles/aw_storage.dir/src/schema.c.o" "gcc" "storage/CMakeFiles/aw_storage.dir/src/schema.c.o.d"
  "/work/main/storage/src/store.c" "storage/CMakeFiles/aw_storage.dir/src/store.c.o" "gcc" "storage/CMakeFiles/aw_storage.dir/src/store.c.o.d"
  "/work/main/storage/src/time.c" "storage/CMakeFiles/aw_storage.dir/src/time.c.o" "gcc" "storage/CMakeFiles/aw_storage.dir/src/time.c.o.d"
  "/work/main/storage/src/writer.c" "storage/CMakeFiles/aw_storage.dir/src/writer.c.o" "gcc" "storage/CMakeFiles/aw_storage.dir/src/writer.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
