require ["vacation", "body", "date", "regex", "include", "variables"];
if body :content "text" :contains "hello" {
  vacation :days 3 :subject "Away" :from "b@example.com" :addresses ["b@example.com"] :handle "h" text:
I am away.
..dot
.
;
}
if date :zone "+0000" :value "ge" "date" "date" "2026-01-01" { stop; }
if header :regex "from" "([a-z]+)@" { include :once :optional "x"; }
if currentdate :is "year" "2026" { return; }
