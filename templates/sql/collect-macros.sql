[# esc(x): the T-SQL expression x (written in this template, never a site value, hence `trusted`) as
   one field of the collector's format: NULL → empty, \ → \\, tab → \t, CR → \r, LF → \n. #]
[% macro esc(x) %]REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), [[ x | trusted ]]), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n')[% endmacro %]
[% macro tab() %] + NCHAR(9) + [% endmacro %]
