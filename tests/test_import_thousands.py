"""An amount with three decimals in a column whose other amounts have two ('1.234' beside '10.50') may be a
whole number written with a thousands separator: it is read by the column's decimal separator, and the
import says so, naming the column, the lines and the value. Where nothing is in doubt it says nothing.

The files are written as their tools write them: WooCommerce quotes every cell; Excel's "CSV UTF-8" starts
with a byte order mark, ends lines with CRLF and quotes only the cells that need it; a German Excel
separates cells with semicolons."""

import csv
import io
import json

import pytest

from analytics import importer, report
from analytics.formats import Readings
from tests.test_cli_data import run

# WooCommerce's order export: every cell quoted, LF line ends.
WOO = ('"Order Number","Order Status","Order Date","Payment Method Title","Order Total","Order Currency"\n'
       '"501","wc-completed","2026-03-10 14:22:10","Credit Card (Stripe)","10.50","EUR"\n'
       '"502","wc-completed","2026-03-10 15:00:00","PayPal","1.234","EUR"\n'
       '"503","wc-processing","2026-03-11 09:00:00","Direct bank transfer","7.00","EUR"\n')
WOO_NOTICE = ("amount (Order Total): '1.234' on line 3 was read as 1.234, but the column's other values have "
              "2 decimals: it may hold a thousands separator, meaning 1234")


def _excel(rows: list[list[str]], delimiter: str = ",") -> bytes:
    """As Excel saves "CSV UTF-8": a byte order mark, CRLF, quotes only where a cell needs them."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return b"\xef\xbb\xbf" + out.getvalue().encode()


def _import(con, tmp_path, content: bytes, **kwargs):
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    return importer.import_files(con, [path], **kwargs)


def _amounts(con, result) -> dict[str, float]:
    return dict(con.execute("SELECT order_id, amount FROM orders WHERE dataset_id = ?",
                            [result.dataset.id]).fetchall())


def _doubts(result) -> list[str]:
    return [n for n in result.notices if "thousands separator" in n]


def test_an_amount_with_three_decimals_among_amounts_with_two_is_read_and_named(con, tmp_path):
    """By hand: 10.50 + 1.234 + 7.00 = 18.734, the figure the import stores (it reads '1.234' with the
    column's decimal point), and one notice says which value it may have misread, and where."""
    result = _import(con, tmp_path, WOO.encode())
    assert (result.stored, result.refused, result.warned) == (3, 0, 0)
    assert _amounts(con, result) == {"501": 10.5, "502": 1.234, "503": 7.0}
    assert report.report(con, result.dataset.id)["gmv"] == pytest.approx(18.734)
    assert _doubts(result) == [WOO_NOTICE]
    assert result.dataset.source["notices"] == result.notices       # kept with the data set


def test_several_such_amounts_are_counted_with_their_first_lines(con, tmp_path):
    """Excel's CSV with a note spanning two lines, so a row's line is not its position. Rows (line): A (2),
    B '2.500' (3), C (4, its note to 5), D '1.250' (6), E..J (7..12) of which G, H, I and J hold three
    decimals, K (13). Seven values with three decimals: lines 3, 6, 9, 10, 11, and 2 more (12 and 13);
    the others have one or two decimals ('4.5', '12.99')."""
    rows = [["Order ID", "Created At", "Payment Method", "Total", "Note"],
            ["A", "2026-05-04 10:00", "card", "12.99", ""],
            ["B", "2026-05-04 10:05", "card", "2.500", ""],
            ["C", "2026-05-04 10:10", "card", "4.5", "ring twice\nleave at the door"],
            ["D", "2026-05-04 10:15", "card", "1.250", ""],
            ["E", "2026-05-04 10:20", "card", "19.90", ""],
            ["F", "2026-05-04 10:25", "card", "8", ""],
            ["G", "2026-05-04 10:30", "card", "3.100", ""],
            ["H", "2026-05-04 10:35", "card", "€ 2.750", ""],
            ["I", "2026-05-04 10:40", "card", "15.000", ""],
            ["J", "2026-05-04 10:45", "card", "999.999", ""],
            ["K", "2026-05-04 10:50", "card", "1.001", ""]]
    result = _import(con, tmp_path, _excel(rows))
    assert result.stored == 11
    amounts = _amounts(con, result)
    assert (amounts["B"], amounts["H"], amounts["J"], amounts["K"]) == (2.5, 2.75, 999.999, 1.001)
    assert _doubts(result) == [
        "amount (Total): 7 values on lines 3, 6, 9, 10, 11 and 2 more were read with three decimals "
        "('2.500' as 2.5), but the column's other values have 1 or 2 decimals: they may hold a thousands "
        "separator ('2.500' meaning 2500)"]


def test_a_comma_amount_with_three_decimals_among_amounts_with_two_is_named_too(con, tmp_path):
    """WooCommerce's export in German number format, saved by a German Excel (semicolons): '1.234,50' and
    '19,90' decide the decimal comma; '1,234' is then 1.234, which a file written with a decimal point means
    as 1234. By hand: 1234.50 + 19.90 + 1.234 = 1255.634."""
    rows = [["Order Number", "Order Date", "Payment Method Title", "Order Total Amount"],
            ["W-1", "14.05.2026 10:00", "Kreditkarte", "1.234,50"],
            ["W-2", "14.05.2026 11:00", "PayPal", "19,90"],
            ["W-3", "15.05.2026 09:30", "Rechnung", "1,234"]]
    result = _import(con, tmp_path, _excel(rows, ";"))
    assert _amounts(con, result) == {"W-1": 1234.5, "W-2": 19.9, "W-3": 1.234}
    assert report.report(con, result.dataset.id)["gmv"] == pytest.approx(1255.634)
    assert result.notices == [
        "amount (Order Total Amount) read with a decimal comma",
        "amount (Order Total Amount): '1,234' on line 4 was read as 1.234, but the column's other values have "
        "2 decimals: it may hold a thousands separator, meaning 1234"]


def test_the_user_s_decimal_point_reads_the_value_and_the_notice_still_names_it(con, tmp_path):
    """Told the decimal separator, the import reads no value to decide it, but still looks for values
    the separator may misread."""
    result = _import(con, tmp_path, WOO.encode(), readings=Readings(decimal="."))
    assert _amounts(con, result)["502"] == 1.234
    assert _doubts(result) == [WOO_NOTICE]


@pytest.mark.parametrize(("amounts", "expected", "readings"), [
    # Three decimals throughout (unit prices): '1,250.500' decides the decimal point; nothing disagrees.
    (["0.125", "2.500", "1,250.500"], [0.125, 2.5, 1250.5], None),
    # Told the decimal point, where every value has three decimals.
    (["0.125", "2.500", "1.250"], [0.125, 2.5, 1.25], "."),
    # A decimal comma with thousands separators: no value can be read another way.
    (["1.234,56", "12,50", "2.000,00"], [1234.56, 12.5, 2000.0], None),
    # Whole numbers beside cents: '1,234' is read as 1234, which holds its thousands separator as such.
    (["10.50", "1,234", "7"], [10.5, 1234.0, 7.0], None),
    # A leading zero is no thousands group: '0.125' is an eighth, whatever the other values.
    (["10.50", "0.125", "7.00"], [10.5, 0.125, 7.0], None),
    # Whole numbers only, told the decimal point: no value has decimals to disagree with.
    (["7", "12", "1.234"], [7.0, 12.0, 1.234], "."),
], ids=["three decimals", "three decimals, told", "decimal comma", "whole with thousands", "leading zero",
        "whole numbers"])
def test_nothing_is_said_where_no_value_is_in_doubt(con, tmp_path, amounts, expected, readings):
    rows = [["Order ID", "Created At", "Payment Method", "Total"]] + [
        [f"O{i}", "2026-05-04 10:00", "card", a] for i, a in enumerate(amounts)]
    result = _import(con, tmp_path, _excel(rows), readings=Readings(decimal=readings))
    assert _amounts(con, result) == {f"O{i}": e for i, e in enumerate(expected)}
    assert _doubts(result) == []


def test_the_command_line_names_the_value_and_its_line(db_file, tmp_path):
    path = tmp_path / "woo-orders.csv"
    path.write_text(WOO)
    code, out, err = run("import", str(path), db=db_file)
    assert code == 0, err
    assert out.splitlines()[1:] == [f"note: {WOO_NOTICE}"]
    code, out, _ = run("import", str(path), "--json", db=db_file)
    assert code == 0 and json.loads(out)["notices"] == [WOO_NOTICE]
