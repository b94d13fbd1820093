file(REMOVE_RECURSE
  "CMakeFiles/aw_storage.dir/src/buf.c.o"
  "CMakeFiles/aw_storage.dir/src/buf.c.o.d"
  "CMakeFiles/aw_storage.dir/src/error.c.o"
  "CMakeFiles/aw_storage.dir/src/error.c.o.d"
  "CMakeFiles/aw_storage.dir/src/json.c.o"
  "CMakeFiles/aw_storage.dir/src/json.c.o.d"
  "CMakeFiles/aw_storage.dir/src/reader.c.o"
  "CMakeFiles/aw_storage.dir/src/reader.c.o.d"
  "CMakeFiles/aw_storage.dir/src/schema.c.o"
  "CMakeFiles/aw_storage.dir/src/schema.c.o.d"
  "CMakeFiles/aw_storage.dir/src/store.c.o"
  "CMakeFiles/aw_storage.dir/src/store.c.o.d"
  "CMakeFiles/aw_storage.dir/src/time.c.o"
  "CMakeFiles/aw_storage.dir/src/time.c.o.d"
  "CMakeFiles/aw_storage.dir/src/writer.c.o"
  "CMakeFiles/aw_storage.dir/src/writer.c.o.d"
  "libaw_storage.a"
  "libaw_storage.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/aw_storage.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
