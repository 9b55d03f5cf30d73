/* Redoc for <mount>/api/redoc/: the schema is <mount>/api/schema/,
 * reached relative to the page. redoc.standalone.js (loaded before this
 * file) defines the global Redoc. */
(function () {
    'use strict';
    var root = document.getElementById('redoc');
    var schema = new URL('../schema/', document.baseURI).href;

    function failed(text) {
        var p = document.createElement('p');
        p.className = 'docs-error';
        p.setAttribute('role', 'alert');
        p.textContent = text;
        root.replaceChildren(p);
    }

    if (!window.Redoc || typeof window.Redoc.init !== 'function') {
        failed('The Redoc files are missing on this server (web/vendor/: run ' +
               'web/fetch-vendor.sh, then make install).');
        return;
    }
    root.replaceChildren();
    window.Redoc.init(schema, {
        expandResponses: '200,201,204',
        jsonSampleExpandLevel: 3,
        pathInMiddlePanel: true,
        requiredPropsFirst: true,
        sortPropsAlphabetically: false,
        hideHostname: false,
        theme: {
            typography: {
                fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
                headings: { fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif' },
                code: { fontFamily: 'ui-monospace, "DejaVu Sans Mono", monospace' }
            }
        }
    }, root, function (err) {
        if (err) {
            failed('The API reference could not be shown: ' + err);
            return;
        }
        document.body.setAttribute('data-loaded', 'true');
    });
}());
