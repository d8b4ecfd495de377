ALERT: Budget 'monthly': actual 1\.68 USD is above 80% of the budget \(1\.60 USD\) for 2023-11-01 to 2023-11-30
