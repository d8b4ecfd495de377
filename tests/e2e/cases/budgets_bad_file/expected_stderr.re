budgets.json: Budgets\[0\] \(ml\)\.TimeUnit: expected DAILY, MONTHLY, QUARTERLY or ANNUALLY
