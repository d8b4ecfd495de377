not enough history to forecast: 13 day\(s\) in the training window, at least 14 needed
