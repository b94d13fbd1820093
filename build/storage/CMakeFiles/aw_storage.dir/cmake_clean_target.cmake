file(REMOVE_RECURSE
  "libaw_storage.a"
)
