"""Issue X.509 certificates with Python `cryptography` from the specs of cert-manager Certificate objects, the way
cert-manager's CA and selfSigned issuers build them (pkg/util/pki: the spec's usages become KeyUsage and
ExtendedKeyUsage, isCA adds BasicConstraints CA and cert sign, dnsNames become the SAN, the issuer's key signs), so a
test can check the chain the rendered objects would give without a cluster."""

import datetime
import re

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KEY_USAGES = {  # cert-manager usage -> x509.KeyUsage argument
    'digital signature': 'digital_signature', 'content commitment': 'content_commitment',
    'key encipherment': 'key_encipherment', 'data encipherment': 'data_encipherment',
    'key agreement': 'key_agreement', 'cert sign': 'key_cert_sign', 'crl sign': 'crl_sign',
}
EXT_USAGES = {'server auth': ExtendedKeyUsageOID.SERVER_AUTH, 'client auth': ExtendedKeyUsageOID.CLIENT_AUTH}


def duration(text):
    """Go duration ('2160h', '1h30m') -> timedelta."""
    units = {'h': 3600, 'm': 60, 's': 1}
    parts = re.findall(r'([0-9.]+)([hms])', text)
    assert parts and ''.join(n + u for n, u in parts) == text, 'not a Go duration: {0!r}'.format(text)
    return datetime.timedelta(seconds=sum(float(n) * units[u] for n, u in parts))


def private_key(spec):
    key = spec.get('privateKey') or {}
    algorithm, size = key.get('algorithm', 'RSA'), key.get('size')
    if algorithm == 'ECDSA':
        curve = {256: ec.SECP256R1, 384: ec.SECP384R1, 521: ec.SECP521R1}[size or 256]
        return ec.generate_private_key(curve())
    assert algorithm == 'RSA', 'unsupported algorithm {0}'.format(algorithm)
    return rsa.generate_private_key(public_exponent=65537, key_size=size or 2048)


def issue(spec, issuer_cert=None, issuer_key=None, now=None):
    """(certificate, key) for a Certificate spec; self-signed when issuer_cert is None (selfSigned issuer)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    key = private_key(spec)
    attrs = []
    if spec.get('commonName'):
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, spec['commonName']))
    for org in (spec.get('subject') or {}).get('organizations', []):
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    subject = x509.Name(attrs)
    usages = list(spec.get('usages') or ['digital signature', 'key encipherment'])
    is_ca = bool(spec.get('isCA'))
    if is_ca and 'cert sign' not in usages:
        usages.append('cert sign')  # cert-manager adds it to every CA certificate
    flags = {arg: False for arg in KEY_USAGES.values()}
    for usage in usages:
        if usage in KEY_USAGES:
            flags[KEY_USAGES[usage]] = True
    ext = [EXT_USAGES[u] for u in usages if u in EXT_USAGES]
    builder = (x509.CertificateBuilder()
               .subject_name(subject)
               .issuer_name(issuer_cert.subject if issuer_cert is not None else subject)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=1))
               .not_valid_after(now + duration(spec.get('duration', '2160h')))
               .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(encipher_only=False, decipher_only=False, **flags), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if ext:
        builder = builder.add_extension(x509.ExtendedKeyUsage(ext), critical=False)
    if spec.get('dnsNames'):
        # an empty subject makes the SAN critical (RFC 5280 4.2.1.6), as Go's x509 does for cert-manager
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in spec['dnsNames']]),
                                        critical=not attrs)
    signer = issuer_key if issuer_key is not None else key
    if issuer_cert is not None:
        builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                                        critical=False)
    return builder.sign(signer, hashes.SHA256()), key
