e = query_bucket("w");
RETURN = [filter_keyvals_regex(e, "title", "^[[:alpha:]]+[[:^alnum:]_x]"),
          filter_keyvals_regex(e, "title", "(?i)[^[:^upper:][:digit:]]{2}"),
          filter_keyvals_regex(e, "title", "(?x) # [[:alpha:]\n [[:punct:][:space:]] \Q[[:word:]]\E (?#[[:blank:]])"),
          categorize(e, [[["C"], {"type": "regex", "regex": "\w+[[:^ascii:]\d]", "ignore_case": true}]])];
