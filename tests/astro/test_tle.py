from datetime import datetime, timezone

import pytest

from mockserver.astro.tle import ElementSet, TLEError, checksum, parse_3le, parse_element_set

ISS = (
    "ISS (ZARYA)",
    "1 25544U 98067A   26034.04958920  .00010142  00000+0  19604-3 0  9992",
    "2 25544  51.6308 243.5964 0011016  59.0626 301.1443 15.48354905550960",
)
NAUKA = (
    "ISS (NAUKA)",
    "1 49044U 21066A   26034.04958920  .00010142  00000+0  19604-3 0  9998",
    "2 49044  51.6308 243.5964 0011016  59.0626 301.1443 15.48354905230449",
)
EXAMPLE = "\n".join(ISS + NAUKA) + "\n"


def with_checksum(line: str) -> str:
    """Re-stamp column 69 so a test breaks only the field it means to break."""
    return line[:68] + str(checksum(line))


def edit(line: str, start: int, text: str) -> str:
    """Overwrite line[start:start+len(text)] and fix the checksum."""
    return with_checksum(line[:start] + text + line[start + len(text):])


def second_set_error(name=NAUKA[0], line1=NAUKA[1], line2=NAUKA[2]) -> TLEError:
    """Parse the example with set 2 replaced; the failure must be reported for set 2."""
    text = "\n".join(ISS + (name, line1, line2))
    with pytest.raises(TLEError) as info:
        parse_3le(text)
    err = info.value
    assert err.set_number == 2
    assert err.name == "ISS (NAUKA)"
    assert str(err).startswith("element set 2 ('ISS (NAUKA)')")
    return err


def test_example_parses():
    sets = parse_3le(EXAMPLE)
    assert [s.name for s in sets] == ["ISS (ZARYA)", "ISS (NAUKA)"]
    assert [s.catalog_number for s in sets] == ["25544", "49044"]
    assert sets[0].line1 == ISS[1] and sets[1].line2 == NAUKA[2]
    expected = datetime(2026, 2, 3, 1, 11, 24, tzinfo=timezone.utc)
    for s in sets:
        assert s.epoch.tzinfo is not None and s.epoch.utcoffset().total_seconds() == 0
        assert s.epoch.replace(microsecond=0) == expected


def test_satrec_propagates():
    sat = parse_3le(EXAMPLE)[0].satrec()
    assert sat.satnum_str == "25544"
    error, position, _ = sat.sgp4(sat.jdsatepoch, sat.jdsatepochF)
    assert error == 0
    radius = sum(c * c for c in position) ** 0.5
    assert 6600 < radius < 6900  # ISS is ~420 km up


def test_checksum_matches_last_digit():
    for line in ISS[1:] + NAUKA[1:]:
        assert checksum(line) == int(line[-1])


def test_checksum_counts_minus_as_one():
    assert checksum("1 -" + " " * 66) == 2
    assert checksum("1 +" + " " * 66) == 1


def test_leading_zero_removed_from_name():
    (s,) = parse_3le("\n".join(("0 ISS (ZARYA)",) + ISS[1:]))
    assert s.name == "ISS (ZARYA)"


def test_crlf_and_blank_lines_accepted():
    text = "\r\n\r\n" + "\r\n".join(ISS) + "\r\n\r\n\r\n" + "\r\n".join(NAUKA) + "  \r\n\r\n"
    sets = parse_3le(text)
    assert [s.catalog_number for s in sets] == ["25544", "49044"]
    assert all(not s.line1.endswith(("\r", " ")) for s in sets)


@pytest.mark.parametrize("text", ["", "   \n\n \t\n"])
def test_empty_text(text):
    with pytest.raises(TLEError) as info:
        parse_3le(text)
    assert info.value.set_number in (0, 1)
    assert "no element sets" in str(info.value)


def test_flipped_checksum_digit():
    bad = NAUKA[1][:68] + "7"
    err = second_set_error(line1=bad)
    assert err.line == 1
    assert "checksum digit is 7" in str(err) and "add up to 8" in str(err)


def test_checksum_not_a_digit():
    err = second_set_error(line2=NAUKA[2][:68] + "X")
    assert err.line == 2 and "checksum" in err.problem and "not a digit" in err.problem


def test_truncated_line():
    err = second_set_error(line2=NAUKA[2][:60])
    assert err.line == 2 and "60 characters" in str(err) and "69" in str(err)


def test_wrong_line_number():
    err = second_set_error(line1="3" + NAUKA[1][1:])
    assert err.line == 1 and "start with '1 '" in str(err)


def test_catalog_numbers_differ():
    err = second_set_error(line2=edit(NAUKA[2], 2, "49045"))
    assert err.line == 2 and "catalog number" in str(err) and "49045" in str(err)


def test_alpha5_catalog_number_kept():
    (s,) = parse_3le("\n".join(("ALPHA", edit(ISS[1], 2, "A0001"), edit(ISS[2], 2, "A0001"))))
    assert s.catalog_number == "A0001"
    assert s.satrec().satnum_str == "A0001"


def test_bad_classification():
    err = second_set_error(line1=edit(NAUKA[1], 7, "X"))
    assert err.line == 1 and "classification" in str(err) and "'X'" in str(err)


@pytest.mark.parametrize("epoch", ["26000.50000000", "26367.00000000", "2603X.04958920"])
def test_bad_epoch(epoch):
    err = second_set_error(line1=edit(NAUKA[1], 18, epoch))
    assert err.line == 1 and "epoch" in str(err)


def test_epoch_pivot_year():
    (s,) = parse_3le("\n".join(("OLD",) + (edit(ISS[1], 18, "98001.00000000"), ISS[2])))
    assert s.epoch == datetime(1998, 1, 1, tzinfo=timezone.utc)


def test_bad_inclination():
    err = second_set_error(line2=edit(NAUKA[2], 8, "181.0000"))
    assert err.line == 2 and "inclination" in str(err) and "181.0000" in str(err)


@pytest.mark.parametrize(
    "start, label",
    [(17, "ascending node"), (34, "argument of perigee"), (43, "mean anomaly")],
)
def test_bad_angles(start, label):
    err = second_set_error(line2=edit(NAUKA[2], start, "361.0000"))
    assert err.line == 2 and label in str(err)


def test_eccentricity_not_digits():
    err = second_set_error(line2=edit(NAUKA[2], 26, "00.1016"))
    assert err.line == 2 and "eccentricity" in str(err)


def test_mean_motion_zero():
    err = second_set_error(line2=edit(NAUKA[2], 52, " 0.00000000"))
    assert err.line == 2 and "mean motion" in str(err) and "positive" in str(err)


def test_sgp4_rejects_near_parabolic_orbit():
    # Every column is well formed, so only sgp4 itself can object (error 4).
    err = second_set_error(line2=edit(NAUKA[2], 26, "9999999"))
    assert err.line is None
    assert "sgp4" in str(err) and "semilatus rectum is less than zero" in str(err)


def test_two_line_file_detected():
    with pytest.raises(TLEError) as info:
        parse_3le("\n".join(ISS[1:] + NAUKA[1:]))
    err = info.value
    assert err.set_number == 1 and err.line is None
    assert "2LE" in str(err)


def test_single_two_line_set_detected():
    with pytest.raises(TLEError) as info:
        parse_3le("\n".join(ISS[1:]))
    assert info.value.set_number == 1 and "2LE" in str(info.value)


@pytest.mark.parametrize("kept, missing_line", [(2, 2), (1, 1)])
def test_incomplete_last_set(kept, missing_line):
    text = "\n".join(ISS + NAUKA[:kept])
    with pytest.raises(TLEError) as info:
        parse_3le(text)
    err = info.value
    assert err.set_number == 2 and err.name == "ISS (NAUKA)" and err.line == missing_line
    assert "missing" in str(err) and "ISS (NAUKA)" in str(err)


def test_parse_element_set_directly():
    s = parse_element_set(*ISS, set_number=5)
    assert isinstance(s, ElementSet) and s.catalog_number == "25544"
    with pytest.raises(TLEError) as info:
        parse_element_set(ISS[0], ISS[1][:68] + "0", ISS[2], set_number=5)
    assert info.value.set_number == 5 and info.value.line == 1


def test_error_is_value_error_and_picklable():
    import pickle

    err = TLEError(3, "X", 2, "something is off")
    assert isinstance(err, ValueError)
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.set_number, copy.name, copy.line, copy.problem) == (3, "X", 2, "something is off")
    assert str(copy) == "element set 3 ('X'), line 2: something is off"
