from fastapi.testclient import TestClient

from tests.conftest import created_id


def test_a_team_is_created_and_answered_with_id_version_and_position(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.post("/v1/teams", json={"name": "Payments"}, headers=admin)
    assert response.status_code == 201
    body = response.json()
    assert body["version"] == 1
    assert body["position"] >= 1
    assert response.headers["ETag"] == '"1"'
    assert created_id(response) == body["id"]
