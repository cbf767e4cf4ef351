import pytest
from ums.automation import templates
from ums.errors import BadRequest
from ums.events import PASSWORD_RESET_REQUEST, SIGN_UP


def test_jexia_go_style_and_jinja_placeholders_both_work() -> None:
    context = {"token": "T0K", "email": "a@b.co"}
    assert templates.render("{{.token}} {{ .email }} {{ token }}", context, html=False) == "T0K a@b.co T0K"


def test_user_data_is_never_template_source() -> None:
    context = {"user": {"first_name": "{{ 7*7 }} {{ ''.__class__.__mro__ }}"}}
    assert (
        templates.render("Hi {{ user.first_name }}", context, html=False) == "Hi {{ 7*7 }} {{ ''.__class__.__mro__ }}"
    )


def test_html_autoescapes_and_text_does_not() -> None:
    context = {"name": "<script>x</script>"}
    assert templates.render("{{ name }}", context, html=True) == "&lt;script&gt;x&lt;/script&gt;"
    assert templates.render("{{ name }}", context, html=False) == "<script>x</script>"


def test_the_sandbox_refuses_unsafe_attribute_access() -> None:
    from jinja2.exceptions import SecurityError

    with pytest.raises(SecurityError):
        templates.render("{{ ''.__class__.__mro__[1].__subclasses__() }}", {}, html=False)


PLACEHOLDERS = SIGN_UP.all_placeholders


def test_compile_errors_name_field_and_line() -> None:
    with pytest.raises(BadRequest, match=r"'body' does not compile \(line 3\)"):
        templates.check("a\nb\n{% for %}", "body", PLACEHOLDERS, html=True)


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "internal attributes like '__"),
        ("{{ cycler.__init__.__globals__ }}", "unknown placeholder(s) cycler"),
        ("{{ '{0.__class__}'.format_map(user) }}", "may not call 'format_map'"),
        ("{{ lipsum }}", "unknown placeholder(s) lipsum"),
        ("{% for i in range(3) %}{{ i }}{% endfor %}", "unknown placeholder(s) range"),
        ("{{ namespace() }} {{ joiner() }}", "unknown placeholder(s) joiner, namespace"),
        ("{{ user['__class__'] }}", "internal attributes like '__class__'"),
        ("{{ user.email|attr('upper') }}", "does not compile (line 1): No filter named 'attr'"),
        ("{{ 1 / 0 }}", "cannot be rendered: ZeroDivisionError"),
        ("{{ token }}", "unknown placeholder(s) token"),  # no token in a sign-up mail
        ("{{ user.first_name.format(user) }}", "may not call 'format' (line 1)"),  # fails for '{0.__class__}'
        ("{{ 'x' * 100000000 }}", "cannot be rendered: SecurityError"),  # no 100 MB value
        ("{% set a = 10 ** 2000 %}{{ a * a }}", "cannot be rendered: SecurityError"),
    ],
)
def test_templates_that_can_only_fail_are_refused_when_saved(source: str, reason: str) -> None:
    with pytest.raises(BadRequest) as refused:
        templates.check(source, "subject", PLACEHOLDERS, html=False)
    assert "Template 'subject'" in refused.value.message and reason in refused.value.message


def test_a_template_with_placeholders_and_filters_a_mail_needs_is_accepted() -> None:
    source = (
        "{% if user.first_name %}Hi {{ user.first_name|title }}{% else %}Hello{% endif %}, "
        "{{ email|lower }} {{ merge_vars.FNAME|default('you') }} {{ user.address.city }} "
        "{% for tag in application.email_tags %}{{ tag|upper }}{% endfor %} {{ event.name|truncate(20) }}"
    )
    templates.check(source, "body", PLACEHOLDERS, html=True)
    reset = PASSWORD_RESET_REQUEST.all_placeholders
    templates.check("{{.token}} {{ reset_link }} {{ expires_at }}", "body", reset, html=True)


def test_a_field_the_user_lacks_renders_empty_instead_of_failing_the_mail() -> None:
    assert templates.render("[{{ user.address.city }}]", {"user": {"email": "a@b.co"}}, html=False) == "[]"


def test_user_data_cannot_make_a_product_huge_at_send_time() -> None:
    from jinja2.exceptions import SecurityError

    assert templates.render("{{ user.first_name * 3 }}", {"user": {"first_name": "Ab"}}, html=False) == "AbAbAb"
    with pytest.raises(SecurityError):
        templates.render("{{ user.first_name * 10000 }}", {"user": {"first_name": "Ab"}}, html=False)


def test_no_globals_reach_a_template() -> None:
    assert templates.render("[{{ lipsum }}{{ range }}{{ cycler }}]", {}, html=True) == "[]"


def test_header_values_lose_cr_lf_nul() -> None:
    assert templates.header_value("Hi\r\nBcc: evil@example.com\x00") == "Hi  Bcc: evil@example.com"


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u0085", "\x0b", "\x0c", "\x1b"])
def test_header_values_lose_every_line_separator_and_control_character(separator: str) -> None:
    assert templates.header_value(f"Ann{separator}Bcc: evil@example.com") == "Ann Bcc: evil@example.com"


def test_text_is_derived_from_html_with_links_spelled_out() -> None:
    text = templates.html_to_text(
        "<p>Hello <b>Ann</b></p><p><a href='https://x.example/r?t=1'>Reset</a></p><style>p{}</style>"
    )
    assert text == "Hello Ann\n\nReset (https://x.example/r?t=1)\n"


@pytest.mark.parametrize(
    "event_id", ["AfterSignUp", "AfterPasswordResetRequest", "AfterPasswordChange", "AfterUserDelete"]
)
def test_every_event_has_a_default_mail_that_passes_the_checks_a_saved_template_does(event_id: str) -> None:
    from ums.automation import defaults
    from ums.events import EVENT_TYPES

    automation = defaults.automation(event_id)
    assert automation is not None and automation["integration_id"] == defaults.INTEGRATION_ID
    template = defaults.template(automation["template"])
    assert template is not None
    placeholders = EVENT_TYPES[event_id].all_placeholders
    for field in ("subject", "html", "text"):
        templates.check(template[field], field, placeholders, html=field == "html")
    html = templates.render(template["html"], {**templates.SAMPLE_PLACEHOLDERS, "application": None}, html=True)
    assert html.startswith("<!doctype html>") and '<html lang="en">' in html
    subject = templates.render(template["subject"], templates.SAMPLE_PLACEHOLDERS, html=False)
    assert f"<title>{subject}</title>" in html and "<!--" not in html
    assert "<img" not in html and "<script" not in html and "src=" not in html  # no remote assets to block
    assert 'role="presentation"' in html  # layout tables are not data tables to a screen reader


def test_the_reset_mail_carries_the_link_in_html_and_text() -> None:
    from ums.automation import defaults

    template = defaults.template("ums-password-reset")
    assert template is not None and "text" in template
    link = templates.SAMPLE_PLACEHOLDERS["reset_link"]
    html = templates.render(template["html"], templates.SAMPLE_PLACEHOLDERS, html=True)
    text = templates.render(template["text"], templates.SAMPLE_PLACEHOLDERS, html=False)
    assert f'href="{link.replace("&", "&amp;")}"' in html and link in text
    assert defaults.template("not-a-default") is None
