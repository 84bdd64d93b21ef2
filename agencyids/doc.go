// Package agencyids implements Vietnamese state agency identifier codes
// (mã định danh) and an in-memory agency directory.
//
// # Codes
//
// Two forms are strictly valid:
//
//   - QCVN 102:2016 (QĐ 28/2018 Art. 10.2): exactly 13 characters in four
//     dot-separated groups DDD.DD.DD.LDD, e.g. 000.12.31.H53. Levels run right
//     to left: the last group (an upper-case letter and 2 digits) is level 1,
//     then levels 2, 3 and 4 (3 digits). Unused levels are zeros, and an unused
//     level below a used one (001.00.20.H53) is refused (ErrLevelGap). The
//     parent replaces the left-most non-zero group with zeros.
//   - QĐ 20/2020 Art. 4: 1–35 characters of A-Z, 0-9 and '.', in non-empty
//     groups developed left to right, e.g. G09.01 or H37.DN.001. The first
//     group is the level-1 code (an upper-case letter and 2 digits, which
//     rules out truncated QCVN 102 codes such as 01.02.G22); this package
//     allows at most MaxLevels groups. The parent drops the last group.
//
// A 13-character string of four groups of 3, 2, 2 and 3 characters is always
// read as the QCVN 102 form (and a longer QĐ 20 code starting with such groups
// is refused as ErrAmbiguous, since its ancestor would not be QĐ 20). Parse validates strictly (for ingress from local
// systems); ParseLenient also accepts the odd codes seen on the national
// axis (01.02.G22, 001.00.20.TT2, vxp.saas.03, CS:GOV:SS1MC:SS1SUB1), with a
// warning, as FormWire codes whose structure is unknown: Level, Parent,
// Ancestors and similar methods treat them as structureless (0, false, nil)
// and Root returns the code itself. Errors are *ParseError values wrapping
// one of the ErrEmpty, ErrTooLong, ErrBadChar, ErrBadGroup, ErrBadLevel1,
// ErrLevelGap, ErrLowerCase, ErrTooDeep or ErrAmbiguous sentinels.
//
// The structure derived from a code's text is only a hint; the Directory is
// the authority on parents.
//
// # Directory
//
// Directory holds Agency records by code and alternative code (the same
// agency in the other form): names, parents, validity periods, successors
// of retired codes, delivery endpoints and bound certificate fingerprints.
// Codes are never deleted or reused: agencies are retired (Retire) and Resolve
// follows successors to the agency in charge at a given time. SearchName
// finds agencies by name prefix regardless of case and Vietnamese
// diacritics. Load adds many agencies at once, all or nothing; ImportCSV and
// ImportJSON read files with hostile-input limits, WriteCSV and WriteJSON write
// them back.
//
// Dates written without a time of day (YYYY-MM-DD) mean midnight in Vietnam
// (UTC+07:00).
package agencyids
