// textfmt.h — text that other programs parse: CSV fields (RFC 4180), JSON strings (RFC 8259) and
// XML text (SVG), written safely whatever bytes a file or class name holds.
//
// Names come from the file system and from class-name files, so they may hold commas, quotes,
// newlines, control characters or bytes that are not UTF-8. CSV keeps the bytes (quoted when
// needed); JSON and XML must be UTF-8, so an invalid byte is written as U+FFFD and JSON escapes
// the control characters, XML (which cannot hold most of them) writes them as U+FFFD too.
#ifndef RN_EXPORT_TEXTFMT_H
#define RN_EXPORT_TEXTFMT_H

#include <stdio.h>

// s as one CSV field: as is, or in double quotes (quotes doubled) when it holds , " CR or LF or
// starts or ends with a blank.
void rn_csv_field(FILE *f, const char *s);

// s as a JSON string, quotes included.
void rn_json_string(FILE *f, const char *s);

// s as XML character data or attribute value (& < > ' " escaped).
void rn_xml_text(FILE *f, const char *s);

#endif
