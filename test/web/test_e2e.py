"""Browser scenarios (test/web/e2e/*.mjs) against the private instances,
under the mount / and under /back."""
import pytest

from webenv import run_scenario


@pytest.fixture
def public_owner(web, session, new_phone):
    return web.register_owner(
        session, new_phone(), full_name="Aziz Karimov",
        car_model="Chevrolet Cobalt", car_plate_number="01 A 123 BC",
        telegram="@aziz_k", instagram="javascript:alert(1)",
        whatsapp="+998 90 123 45 67", phone_number_2="+998901112233",
        is_profile_public=True)


def test_web_01_visitor_and_owner_chat(browser_ready, inst, public_owner):
    """Card, start chat, live both ways, markup as text, reload resumes."""
    run_scenario("chat", inst, {"owner": public_owner})


def test_web_02_register_free_sticker(browser_ready, inst, web, new_phone):
    """A free sticker is registered through the page; the new owner lands
    in the inbox, hides the profile, logs out (the refresh token is
    revoked)."""
    token = web.mint(1)[0].strip()
    run_scenario("register", inst, {"token": token, "phone": new_phone()})


def test_web_03_owner_actions(browser_ready, inst, public_owner):
    """Expired access token refreshed on 401 (rotation), close/reopen,
    block; the visitor's page follows."""
    run_scenario("owner", inst, {"owner": public_owner})


def test_web_04_api_reference(browser_ready, inst):
    """/api/docs/ and /api/redoc/ render the schema offline."""
    run_scenario("docs", inst, {})
