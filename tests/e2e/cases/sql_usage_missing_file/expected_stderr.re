sagebox: --file: cannot open .*no-such-query\.sql
