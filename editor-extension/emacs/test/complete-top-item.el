;;; complete-top-item.el --- batch Emacs + eglot end-to-end check of `startref lsp'  -*- lexical-binding: t -*-

;; Run by tests/lsp/test_emacs.py as
;;   emacs --batch -l complete-top-item.el
;; with STARTREF_TEX (file), STARTREF_LINE (1-based), STARTREF_COL (0-based, characters), STARTREF_CMD (the server
;; command, space separated) and STARTREF_EMACS_OUT (report file) in the environment.
;; It opens the file in latex-mode, starts eglot (eglot-ensure, as a user's hook would), asks eglot's
;; completion-at-point function for the candidates, takes the first one in eglot's own sort order (the server's
;; sortText), inserts it and runs eglot's exit function (which applies the item's textEdit), saves, and reports.

(require 'package)
(add-to-list 'package-directory-list "/usr/share/emacs/site-lisp/elpa")
(package-initialize)
(require 'eglot)
(require 'tex-mode)

(setq jsonrpc-default-request-timeout 180
      eglot-sync-connect 120
      eglot-connect-timeout 180
      make-backup-files nil)

(defun startref-test--fail (fmt &rest args)
  (princ (concat "startref-emacs-test: " (apply #'format fmt args) "\n") #'external-debugging-output)
  (kill-emacs 3))

(condition-case err
    (let* ((tex (getenv "STARTREF_TEX"))
           (line (string-to-number (getenv "STARTREF_LINE")))
           (col (string-to-number (getenv "STARTREF_COL")))
           (cmd (split-string (getenv "STARTREF_CMD") " " t)))
      (add-to-list 'eglot-server-programs `(latex-mode . ,cmd))
      (find-file tex)
      (latex-mode)
      (eglot-ensure)
      (run-hooks 'post-command-hook)          ; eglot-ensure connects on the next command
      (let ((deadline (+ (float-time) 180)))
        (while (and (not (eglot-current-server)) (< (float-time) deadline))
          (accept-process-output nil 0.1)))
      (unless (eglot-current-server) (startref-test--fail "eglot did not connect"))
      (goto-char (point-min))
      (forward-line (1- line))
      (forward-char col)
      (let* ((capf (eglot-completion-at-point))
             (beg (nth 0 capf))
             (end (nth 1 capf))
             (table (nth 2 capf))
             (props (nthcdr 3 capf))
             (exit-fn (plist-get props :exit-function))
             (cands (all-completions (buffer-substring-no-properties beg end) table))
             (sort-fn (completion-metadata-get (completion-metadata "" table nil) 'display-sort-function))
             (sorted (if sort-fn (funcall sort-fn cands) cands))
             (top (car sorted)))
        (unless top (startref-test--fail "no completion candidates"))
        (delete-region beg end)
        (goto-char beg)
        (insert top)
        (when exit-fn (funcall exit-fn top 'finished))
        (save-buffer)
        (with-temp-file (getenv "STARTREF_EMACS_OUT")
          (insert (mapconcat (lambda (c) (substring-no-properties c)) (seq-take sorted 5) "\n") "\n")))
      (eglot-shutdown (eglot-current-server))
      (kill-emacs 0))
  (error (startref-test--fail "%S" err)))
