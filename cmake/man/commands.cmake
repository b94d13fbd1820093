# Run as `cmake -DAWNODE=<binary> -DOUT=<file> -P commands.cmake`: writes a help2man
# include file whose COMMANDS section holds every command's own --help text, so that
# `man awnode` documents the options too and cannot drift from the binary.
execute_process(COMMAND ${AWNODE} --help OUTPUT_VARIABLE overview RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${AWNODE} --help failed (${rc})")
endif()
# the overview lists one command per line: two spaces, the name, its summary
string(REGEX MATCHALL "\n  [a-z]+ [^\n]*" lines "${overview}")
set(out "[COMMANDS]\n")
foreach(line IN LISTS lines)
  string(REGEX REPLACE "^\n  ([a-z]+) .*" "\\1" cmd "${line}")
  execute_process(COMMAND ${AWNODE} ${cmd} --help OUTPUT_VARIABLE text RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${AWNODE} ${cmd} --help failed (${rc})")
  endif()
  # shown verbatim: escape what roff would read as requests or escapes
  string(REPLACE "\\" "\\e" text "${text}")
  string(REPLACE "-" "\\-" text "${text}")
  string(REGEX REPLACE "\n([.'])" "\n\\\\&\\1" text "\n${text}")
  string(APPEND out ".SS \"awnode ${cmd}\"\n.nf${text}.fi\n")
endforeach()
string(APPEND out "[SEE ALSO]\n.BR aw-watcher-afk (1),\n.BR aw-watcher-window (1).\n"
  "The web UI and the interactive API explorer are served by the running node, by default at\n"
  ".UR http://127.0.0.1:5600/\n.UE .\n")
file(WRITE ${OUT} "${out}")
