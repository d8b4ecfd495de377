// The dashboard was not built into this binary (see index.html).
