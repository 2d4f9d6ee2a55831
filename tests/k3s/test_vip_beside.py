"""The VIP the k3s tests give their node containers is never a node's own address (podman's default network hands
addresses out one after another, so a node container can get .250 after enough runs)."""

from .conftest import vip_beside


def test_the_vip_is_no_nodes_address():
    assert vip_beside('10.88.0.17') == '10.88.0.250'
    assert vip_beside('10.88.0.250') == '10.88.0.249'
    assert vip_beside('10.88.0.250', '10.88.0.249', '10.88.1.3') == '10.88.0.248'
