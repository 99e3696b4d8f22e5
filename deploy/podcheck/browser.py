"""A student's browser behind the ALB: HTTPS ends at the ALB, which forwards plain HTTP to
the pod IP with the site's Host, X-Forwarded-For and X-Forwarded-Proto: https."""

import re
from http.cookies import SimpleCookie

import requests

CLIENT_IP = "203.0.113.7"  # TEST-NET-3: the student's address as the ALB appends it


class Browser:
    def __init__(self, pod_ip: str, port: int, site_host: str, timeout: float = 30) -> None:
        self.base = f"http://{pod_ip}:{port}"
        self.site_host = site_host
        self.timeout = timeout
        self.session = requests.Session()
        # The site's cookies are Secure: the browser sends them over HTTPS to the ALB, which
        # passes them on in plain HTTP. requests would not send them to an http:// URL.
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {
            "Host": self.site_host,
            "X-Forwarded-For": CLIENT_IP,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Port": "443",
            **kwargs.pop("headers", {}),
        }
        if method == "POST":
            headers.setdefault("Origin", f"https://{self.site_host}")
            headers.setdefault("Referer", f"https://{self.site_host}{path}")
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        response = self.session.request(
            method, self.base + path, headers=headers, timeout=self.timeout,
            allow_redirects=False, **kwargs,
        )  # fmt: skip
        self.session.cookies.clear()
        for header in response.raw.headers.getlist("Set-Cookie"):
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response

    def get(self, path: str) -> requests.Response:
        return self.request("GET", path)

    def post_form(self, path: str, data: dict, form_page: str | None = None) -> requests.Response:
        """POST a form the way a browser does: read the page for its CSRF token first."""
        page = self.get(form_page or path)
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if match is None:
            raise AssertionError(f"no CSRF token on {form_page or path} ({page.status_code})")
        return self.request("POST", path, data={"csrfmiddlewaretoken": match.group(1), **data})
