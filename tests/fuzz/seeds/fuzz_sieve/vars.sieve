require ["variables", "fileinto", "envelope", "subaddress", "imap4flags", "copy", "relational", "comparator-i;ascii-numeric"];
if envelope :matches :detail "to" "*" { set :lower "d" "${1}"; }
if header :matches "subject" "* *" { set :length "n" "${2}"; }
addflag "$Seen";
if hasflag :count "ge" :comparator "i;ascii-numeric" "1" { fileinto :copy :flags "\\Flagged" "lists/${d}"; }
if string :value "gt" :comparator "i;ascii-numeric" "${n}" "3" { redirect :copy "x@example.net"; }
