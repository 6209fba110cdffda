require ["fileinto", "reject"];
if header :contains "from" "coyote" {
    discard;
} elsif header :contains ["subject"] ["$$$"] {
    discard;
} elsif anyof (not exists ["From", "Date"], size :over 1M) {
    reject "too big";
} else {
    fileinto "INBOX";
}
