e = query_bucket("w");
RETURN = [filter_keyvals_regex(e, "title", "^[[:alpha:]]+[[:^alnum:]_x]"),
          filter_keyvals_regex(e, "title", "(?i)[^[:^upper:][:digit:]]{2}"),
          filter_keyvals_regex(e, "title", "(?x) # [[:alpha:]\n [[:punct:][:space:]] \Q[[:word:]]\E (?#[[:blank:]])"),
          categorize(e, [[["C"], {"type": "regex", "regex": "\w+[[:^ascii:]\d]", "ignore_case": true}]])];
RETURN = [RETURN, filter_keyvals_regex(query_bucket("w"), "title", "\bGit\w+\B[\W\s]\S*[^\w\d]"),
          tag(query_bucket("w"), [["t", {"type": "regex", "regex": "(?x) \b [\w-]+ # \b[[:word:]]\n \s", "ignore_case": true}]])];
